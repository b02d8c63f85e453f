import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectAsync, type MqttClient } from "mqtt";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import type { DeviceCredentials } from "../src/protocol/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("sec-admin", "admin");
});
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  await s.stop();
});

function topic(c: DeviceCredentials, suffix: string) {
  return `station/${c.stationId}/device/${c.deviceId}/${suffix}`;
}

/** A hand-written device speaking raw MQTT, for answers firmware-sim never gives. */
async function rawDevice(
  c: DeviceCredentials,
  answer: (cmd: { requestId: string; action: string }) => object | undefined,
) {
  const client: MqttClient = await connectAsync(`mqtt://${c.mqttHost}:${c.mqttPort}`, {
    clientId: c.deviceId,
    username: c.deviceId,
    password: c.mqttPassword,
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync());
  await client.subscribeAsync([topic(c, "handshake/ack"), topic(c, "command")], { qos: 1 });
  client.on("message", (t, payload) => {
    if (!t.endsWith("/command")) return;
    const reply = answer(JSON.parse(payload.toString()));
    if (reply) void client.publishAsync(topic(c, "command/result"), JSON.stringify(reply), { qos: 1 });
  });
  await client.publishAsync(
    topic(c, "handshake"),
    JSON.stringify({ type: "light", firmwareVersion: "raw-1" }),
    { qos: 1 },
  );
  return client;
}

describe("embedded broker security", () => {
  test("wrong credentials are refused at CONNECT", async () => {
    const { credentials } = await addDevice(s, admin, "Lamp", "light");
    const sim = simFor({ ...credentials, mqttPassword: "wrong-password" }, "light", { reconnect: false });
    await expect(sim.start()).rejects.toThrow(/refused|not authorized|bad user/i);
    await sim.stop({ graceful: false }).catch(() => {});
  });

  test("a device cannot publish to another device's topics nor read its commands", async () => {
    const a = await addDevice(s, admin, "A", "light");
    const b = await addDevice(s, admin, "B", "light");
    const simA: SimulatedDevice = simFor(a.credentials, "light");
    const simB: SimulatedDevice = simFor(b.credentials, "light");
    cleanups.push(
      () => simA.stop(),
      () => simB.stop(),
    );
    await simA.start();
    await simB.start();
    await eventually(
      () => getDevice(s, admin, b.device.id),
      (d) => d.state.power === "off",
    );

    const refusals = (kind: string) =>
      readMetric(s, "opengenie_broker_refusals_total", { kind, reason: "topic" });
    const [publishesBefore, subscribesBefore] = [await refusals("publish"), await refusals("subscribe")];
    await simA.publishToTopic(topic(b.credentials, "state"), { state: { power: "on", hijacked: true } }, 500);
    expect(await simA.subscribeRaw(topic(b.credentials, "command"))).toBe(false);
    expect(await simA.subscribeRaw(`station/${s.config.stationId}/device/+/command`)).toBe(false);

    const res = await s.api(`/api/devices/${b.device.id}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "turn_on" }),
    });
    expect(res.status).toBe(200);
    expect(simA.received).toHaveLength(0);
    const stored = await getDevice(s, admin, b.device.id);
    expect(stored.state.hijacked).toBeUndefined();
    expect((await refusals("publish")) - publishesBefore).toBe(1);
    expect((await refusals("subscribe")) - subscribesBefore).toBe(2);
  });

  test("DELETE disconnects the device at once and its credential stops working", async () => {
    const { device, credentials } = await addDevice(s, admin, "Doomed", "switch");
    const sim = simFor(credentials, "switch", { reconnect: false });
    await sim.start();
    const res = await s.api(`/api/devices/${device.id}`, { method: "DELETE", token: admin });
    expect(res.status).toBe(200);
    await eventually(
      async () => sim.connected,
      (c) => !c,
      2000,
    );
    const again = simFor(credentials, "switch", { reconnect: false });
    await expect(again.start()).rejects.toThrow(/refused|not authorized|bad user/i);
    expect((await s.api(`/api/devices/${device.id}`, { token: admin })).status).toBe(404);
  });
});

describe("command results", () => {
  test("a device reporting failure gives 502 DEVICE_ERROR; silence gives 504 DEVICE_TIMEOUT", async () => {
    const failing = await addDevice(s, admin, "Broken", "light");
    await rawDevice(failing.credentials, (cmd) => ({
      requestId: cmd.requestId,
      ok: false,
      error: "relay stuck",
    }));
    await eventually(
      () => getDevice(s, admin, failing.device.id),
      (d) => d.online,
    );
    const res = await s.api(`/api/devices/${failing.device.id}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "toggle" }),
    });
    expect(res.status).toBe(502);
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe("DEVICE_ERROR");
    expect(err.message).toContain("relay stuck");

    const silent = await addDevice(s, admin, "Silent", "light");
    await rawDevice(silent.credentials, () => undefined);
    await eventually(
      () => getDevice(s, admin, silent.device.id),
      (d) => d.online,
    );
    const timeout = await s.api(`/api/devices/${silent.device.id}/commands?wait=300`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "toggle" }),
    });
    expect(timeout.status).toBe(504);
    expect(((await timeout.json()) as { error: { code: string } }).error.code).toBe("DEVICE_TIMEOUT");
  });

  test("unknown device ids give 404, bad JSON 400", async () => {
    const missing = await s.api("/api/devices/dev_nope/commands", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "toggle" }),
    });
    expect(missing.status).toBe(404);
    const bad = await s.api("/api/devices", { method: "POST", token: admin, body: "{" });
    expect(bad.status).toBe(400);
    const badType = await s.api("/api/devices", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ name: "x", type: "toaster" }),
    });
    expect(badType.status).toBe(400);
  });
});
