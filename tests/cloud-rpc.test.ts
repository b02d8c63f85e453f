import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { type FakeCloud, startFakeCloud } from "./fakes/fake-cloud.ts";
import { addDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";

let cloud: FakeCloud;
let s: TestStation;
let admin: string;
let lightId: string;
let offlineId: string;
let light: SimulatedDevice;
/** While set, the light takes commands but never reports their result (a hung firmware). */
let mute = false;

beforeAll(async () => {
  cloud = await startFakeCloud({ claimSecret: "s3cret" });
  s = await startTestStation({
    env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
  });
  admin = await s.userToken("ada", "admin");
  const created = await addDevice(s, admin, "Desk lamp", "light");
  lightId = created.device.id;
  offlineId = (await addDevice(s, admin, "Porch", "switch")).device.id;
  light = simFor(created.credentials, "light", {
    // A throwing command listener stops the simulator before it publishes the result.
    onCommand: () => {
      if (mute) throw new Error("simulated firmware hang");
    },
  });
  await light.start();
  await cloud.station();
});

afterAll(async () => {
  await light?.stop();
  await s?.stop();
  await cloud?.stop();
});

/** Resolves with the answer, or "pending" if it has not come yet. */
function peek<T>(p: Promise<T>): Promise<T | "pending"> {
  return Promise.race([p, Promise.resolve("pending" as const)]);
}

describe("cloud link: the station's JSON-RPC methods", () => {
  test("device_types.list and devices.snapshot answer from the device core", async () => {
    const types = await cloud.call("device_types.list");
    const light = (
      types.result as { deviceTypes: { type: string; commands: { action: string }[] }[] }
    ).deviceTypes.find((t) => t.type === "light");
    expect(light?.commands.map((c) => c.action)).toContain("set_brightness");
    const snapshot = await cloud.call("devices.snapshot");
    const devices = (snapshot.result as { devices: { id: string; online: boolean }[] }).devices;
    expect(devices.find((d) => d.id === lightId)).toMatchObject({ online: true });
    expect(devices.find((d) => d.id === offlineId)).toMatchObject({ online: false });
  });

  test("device.command reaches the firmware-sim device and answers only after its result", async () => {
    const done = await cloud.call("device.command", {
      deviceId: lightId,
      command: { action: "set_brightness", brightness: 40 },
    });
    expect(done).toMatchObject({ result: { status: "ok" } });
    expect(light.received.at(-1)?.command).toMatchObject({ action: "set_brightness", brightness: 40 });

    mute = true;
    const before = light.received.length;
    const answer = cloud.call("device.command", { deviceId: lightId, command: { action: "turn_on" } });
    await waitFor(() => light.received.length > before, 5000, "the command at the device");
    // A later call is served while the first still waits for the device.
    expect((await cloud.call("devices.snapshot")).result).toBeDefined();
    expect(await peek(answer)).toBe("pending");
    const requestId = light.received.at(-1)!.command.requestId;
    await light.publishRaw("command/result", JSON.stringify({ requestId, ok: true }));
    expect(await answer).toMatchObject({ result: { status: "ok" } });

    // The device's failure comes back as the DEVICE_ERROR code in the error's data.
    const failing = cloud.call("device.command", { deviceId: lightId, command: { action: "turn_off" } });
    await waitFor(() => light.received.length > before + 1, 5000, "the command at the device");
    const failedId = light.received.at(-1)!.command.requestId;
    await light.publishRaw(
      "command/result",
      JSON.stringify({ requestId: failedId, ok: false, error: "jammed" }),
    );
    const failed = await failing;
    expect(failed.error?.code).toBe(-32000);
    expect(failed.error?.data).toMatchObject({ code: "DEVICE_ERROR" });
    mute = false;
  });

  test("errors: DEVICE_OFFLINE and VALIDATION_ERROR in data, bad params -32602, unknown method -32601", async () => {
    const offline = await cloud.call("device.command", {
      deviceId: offlineId,
      command: { action: "turn_on" },
    });
    expect(offline.error).toMatchObject({ code: -32000, data: { code: "DEVICE_OFFLINE" } });
    const unknownAction = await cloud.call("device.command", {
      deviceId: lightId,
      command: { action: "fly" },
    });
    expect(unknownAction.error).toMatchObject({ code: -32602, data: { code: "VALIDATION_ERROR" } });
    const noDevice = await cloud.call("device.command", { deviceId: "nope", command: { action: "turn_on" } });
    expect(noDevice.error).toMatchObject({ code: -32000, data: { code: "NOT_FOUND" } });
    expect((await cloud.call("device.command", { command: {} })).error?.code).toBe(-32602);
    expect((await cloud.call("station.setActiveChannels", { channels: "everything" })).error?.code).toBe(
      -32602,
    );
    // Names the station does not publish are ignored, not refused: a newer cloud may ask for more.
    expect(await cloud.call("station.setActiveChannels", { channels: ["everything"] })).toMatchObject({
      result: { ok: true },
    });
    expect((await cloud.call("station.reboot")).error?.code).toBe(-32601);
  });

  test("notifications go out for the active channels only", async () => {
    const seen = () =>
      cloud.notifications().filter((n) => (n.params as { deviceId?: string }).deviceId === lightId);
    const count = seen().length;
    // `devices` is the /ws channel name for device.state and device.status.
    expect(
      await cloud.call("station.setActiveChannels", { channels: ["devices", "some.future.channel"] }),
    ).toMatchObject({ result: { ok: true } });
    await light.publishEvent("user_event", { button: 1 });
    await light.publishState({ brightness: 77 });
    // The station handles one device's messages in order: the event came first, and was not sent.
    await cloud.until(() =>
      seen().some(
        (n) =>
          n.method === "device.state" &&
          (n.params as { state: { brightness?: number } }).state.brightness === 77,
      )
        ? true
        : undefined,
    );
    expect(
      seen()
        .slice(count)
        .map((n) => n.method),
    ).toEqual(["device.state"]);

    await cloud.call("station.setActiveChannels", { channels: ["device.event"] });
    await light.publishState({ brightness: 12 });
    await light.publishEvent("user_event", { button: 2 });
    await cloud.until(() => (seen().some((n) => n.method === "device.event") ? true : undefined));
    expect(
      seen()
        .slice(count)
        .map((n) => n.method),
    ).toEqual(["device.state", "device.event"]);
    expect(seen().at(-1)?.params).toMatchObject({
      deviceId: lightId,
      kind: "user_event",
      data: { button: 2 },
    });
    await cloud.call("station.setActiveChannels", { channels: [] });
  });

  test("the cloud dropping mid-call: the link comes back and serves again; the late result goes nowhere", async () => {
    mute = true;
    const before = light.received.length;
    const first = cloud.connections.find((c) => c.authenticated && !c.closed)!;
    const stranded = cloud.call("device.command", { deviceId: lightId, command: { action: "toggle" } });
    await waitFor(() => light.received.length > before, 5000, "the command at the device");
    cloud.dropAll();
    const again = await cloud.until(() => cloud.connections.find((c) => c.id > first.id && c.authenticated));
    expect(again.received.map((m) => m.type)).toEqual(["station_auth"]);
    mute = false;
    // The device's result for the stranded call arrives after the drop: answered on no connection.
    const requestId = light.received.at(-1)!.command.requestId;
    await light.publishRaw("command/result", JSON.stringify({ requestId, ok: true }));
    const done = await cloud.call("device.command", { deviceId: lightId, command: { action: "turn_on" } });
    expect(done).toMatchObject({ result: { status: "ok" } });
    expect(await peek(stranded)).toBe("pending");
    // Every answer on the new connection is to a call made on it; the stranded one is not among them.
    const asked = new Set(again.calls.map((c) => c.id));
    const answered = again.received.filter((m) => "result" in m || "error" in m).map((m) => m.id as number);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((id) => asked.has(id))).toBe(true);
    expect(first.closed).toBe(true);
    const status = (await (await s.api("/api/cloud/status", { token: admin })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ connected: true });
    // Metrics count the reconnect and the calls, by method and outcome.
    expect(await readMetric(s, "opengenie_cloud_reconnects_total")).toBeGreaterThanOrEqual(1);
    expect(await readMetric(s, "opengenie_cloud_connected")).toBe(1);
    expect(
      await readMetric(s, "opengenie_cloud_rpc_calls_total", { method: "device.command", outcome: "ok" }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      await readMetric(s, "opengenie_cloud_rpc_calls_total", { method: "device.command", outcome: "error" }),
    ).toBeGreaterThanOrEqual(4);
  });

  test("garbage from the cloud never crashes the station", async () => {
    const junk = [
      "not json",
      "",
      "[]",
      "[1,2,3]",
      "null",
      "42",
      "{}",
      '{"jsonrpc":"2.0","id":999999,"result":5}',
      '{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}',
      '{"method":5,"id":1}',
      '{"method":"devices.snapshot","id":{"nested":true}}',
      '{"type":"member_removed"}',
      '{"type":"no_such_message","x":1}',
      '{"type":"identity_sync","members":"everyone"}',
      `{"jsonrpc":"2.0","id":1,"method":"${"m".repeat(10_000)}"}`,
      "x".repeat(2_000_000),
      "\u0000\uffff",
    ];
    for (const text of junk) await cloud.send(text);
    const values = fc.sample(fc.jsonValue(), { numRuns: 300, seed: 13 });
    for (const v of values) await cloud.send(JSON.stringify(v));
    // Still serving, on the same connection, and healthy.
    expect(await cloud.call("devices.snapshot")).toHaveProperty("result");
    expect((await s.api("/api/health")).status).toBe(200);
    expect(s.logger.lines.some((l) => l.includes("unknown type") && l.includes("no_such_message"))).toBe(
      true,
    );
  });
});

test("garbage in the handshake: the station stays up and keeps retrying", async () => {
  const bad = await startFakeCloud({
    handshakeReply: () => '{"type":"claim_success","stationToken":"short"}',
  });
  const other = await startTestStation({
    env: { OPENGENIE_CLOUD_URL: bad.url, OPENGENIE_CLOUD_CLAIM_SECRET: "x" },
  });
  try {
    await bad.until(() => (bad.connections[0]?.received.length ? true : undefined));
    for (const text of ["{", '{"type":"auth_ok","extra":[', "[]", "x".repeat(1_500_000)])
      bad.connections[0]!.ws.send(text);
    const guest = await other.userToken("gus", "guest");
    const status = (await (await other.api("/api/cloud/status", { token: guest })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ configured: true, connected: false, claimed: false });
    expect((await other.api("/api/health")).status).toBe(200);
  } finally {
    await other.stop();
    await bad.stop();
  }
});
