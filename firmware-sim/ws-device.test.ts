import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createManualClock } from "../src/core/index.ts";
import { createMemoryLogger } from "../src/logging/index.ts";
import { deviceListSchema } from "../src/protocol/index.ts";
import { addDevice, eventually, getDevice } from "../tests/helpers/devices.ts";
import { startTestStation, type TestStation } from "../tests/helpers/test-station.ts";
import { parseCliArgs } from "./cli-args.ts";
import type { SimulatedDevice } from "./simulated-device-types.ts";
import { createWsSimulatedDevice, type WsSimulatedDeviceOptions } from "./ws-simulated-device.ts";

let s: TestStation;
let admin: string;
const devices: SimulatedDevice[] = [];

beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("ws-sim-admin", "admin");
});
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});
afterAll(() => s.stop());

function wsDevice(deviceId: string, token: string, extra: Partial<WsSimulatedDeviceOptions> = {}) {
  const device = createWsSimulatedDevice({
    url: s.wsUrl,
    deviceId,
    token,
    type: "light",
    reconnectPeriodMs: 50,
    startTimeoutMs: 5000,
    ...extra,
  });
  devices.push(device);
  return device;
}

const command = (id: string, body: object, wait = 3000) =>
  s.api(`/api/devices/${id}/commands?wait=${wait}`, {
    method: "POST",
    token: admin,
    body: JSON.stringify(body),
  });

test("over /ws/iot: handshake → online, a waited command is applied and reported, offline when stopped", async () => {
  const { device, credentials } = await addDevice(s, admin, "WS sim lamp", "light");
  const sim = wsDevice(device.id, credentials.mqttPassword, { firmwareVersion: "ws-sim-2.0.0" });
  await sim.start();
  expect(sim.connected && sim.ready).toBe(true);
  const online = await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.online && d.state.brightness === 100,
  );
  expect(online).toMatchObject({ transport: "iot-ws", firmwareVersion: "ws-sim-2.0.0" });

  const res = await command(device.id, { action: "set_brightness", params: { brightness: 35 } });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: "ok" });
  expect(sim.received.at(-1)?.command).toMatchObject({ action: "set_brightness", brightness: 35 });
  expect(sim.state).toMatchObject({ power: "on", brightness: 35 });
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.state.brightness === 35 && d.state.power === "on",
  );

  const refused = await command(device.id, { action: "set_target", params: { celsius: 20 } });
  expect(refused.status).toBe(400); // the station's type catalog refuses it before the device sees it

  await sim.stop();
  expect(sim.connected).toBe(false);
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => !d.online,
  );
});

test("a reboot command drops the socket, re-handshakes and comes back online", async () => {
  const { device, credentials } = await addDevice(s, admin, "WS sim reboot", "light");
  const sim = wsDevice(device.id, credentials.mqttPassword);
  await sim.start();
  // After a reboot the full state goes out again, and only once the new handshake is acked.
  const statesAfterReboot: unknown[] = [];
  sim.onStateSent((sent) => statesAfterReboot.push(sent.state));
  expect((await command(device.id, { action: "reboot" })).status).toBe(200);
  await eventually(
    async () => sim.ready && statesAfterReboot.length > 0,
    (ok) => ok,
  );
  expect(statesAfterReboot[0]).toEqual({ power: "off", brightness: 100 });
  expect((await command(device.id, { action: "turn_on" })).status).toBe(200);
  expect(sim.state.power).toBe("on");
});

test("a wrong token fails start() with the station's refusal, not a timeout", async () => {
  const { device } = await addDevice(s, admin, "WS sim wrong token", "light");
  // On a clock that never moves, neither the start timeout nor a reconnect can fire: only the
  // station's refusal of the first attempt can settle start() (else the test times out).
  const sim = wsDevice(device.id, "not-the-token", { clock: createManualClock() });
  await expect(sim.start()).rejects.toThrow("refused the device token");
}, 10_000);

test("deleting the device closes its socket (4003) and the simulator goes quiet", async () => {
  const { device, credentials } = await addDevice(s, admin, "WS sim removed", "switch");
  const logger = createMemoryLogger("warn");
  // The simulator's timers run on a manual clock, and every socket it opens is counted.
  const clock = createManualClock();
  let sockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets++;
    }
  }
  const sim = wsDevice(device.id, credentials.mqttPassword, {
    type: "switch",
    logger,
    clock,
    WebSocketImpl: CountingWebSocket,
  });
  await sim.start();
  expect(sockets).toBe(1);
  expect((await s.api(`/api/devices/${device.id}`, { method: "DELETE", token: admin })).status).toBe(200);
  // The close has been handled once the simulator logged what it made of it.
  await eventually(
    async () => logger.lines.join("\n"),
    (text) => text.includes("the station removed this device") || text.includes("connection lost"),
  );
  expect(sim.connected).toBe(false);
  // Far past the 50 ms reconnect period and the 30 s backoff cap: a scheduled retry would open a socket.
  clock.advance(120_000);
  expect(sockets).toBe(1);
  expect(logger.lines.join("\n")).toContain("the station removed this device");
  expect(logger.lines.join("\n")).not.toContain("connection lost");
});

describe("cli --transport ws", () => {
  test("flags: each transport needs its own address", () => {
    const base = ["--device-id", "d1", "--token", "t"];
    expect(() => parseCliArgs(["--transport", "ws", ...base])).toThrow("--ws-url is required");
    expect(() => parseCliArgs([...base, "--station-id", "s"])).toThrow("--url is required");
    expect(() => parseCliArgs(["--transport", "ws", "--ws-url", "mqtt://x:1", ...base])).toThrow(
      "--ws-url: must look like ws://host:port",
    );
    expect(parseCliArgs(["--transport", "ws", "--ws-url", "ws://127.0.0.1:1", ...base])).toMatchObject({
      mode: "single",
      transport: "ws",
      wsUrl: "ws://127.0.0.1:1",
    });
  });

  async function runUntil(args: string[], line: RegExp) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "cli.ts"), ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    // Keep draining stdout after the line appears: breaking out of the loop would cancel the
    // stream and close the pipe, and the CLI's next line ("stopping on SIGINT") would hit EPIPE.
    let out = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    let seen: () => void = () => {};
    const appeared = new Promise<void>((resolve) => {
      seen = resolve;
    });
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return seen();
        out += decoder.decode(value);
        if (line.test(out)) seen();
      }
    })();
    await appeared;
    return { child, out };
  }

  test("one device: online over /ws/iot, stops on SIGINT and goes offline", async () => {
    const { device, credentials } = await addDevice(s, admin, "WS cli lamp", "light");
    const args = ["--transport", "ws", "--ws-url", s.wsUrl, "--device-id", device.id];
    const { child, out } = await runUntil([...args, "--token", credentials.mqttPassword], /online at/);
    try {
      expect(out).toContain(`online at ${s.wsUrl}/ws/iot`);
      expect((await getDevice(s, admin, device.id)).transport).toBe("iot-ws");
    } finally {
      child.kill("SIGINT");
      expect(await child.exited).toBe(0);
    }
    await eventually(
      () => getDevice(s, admin, device.id),
      (d) => !d.online,
    );
  });

  test("a fleet over /ws/iot derives the address from --api", async () => {
    const args = ["--fleet", "2", "--transport", "ws", "--api", s.url, "--api-token", admin];
    const { child, out } = await runUntil([...args, "--name-prefix", "wsfleet"], /fleet: /);
    try {
      expect(out).toContain("fleet: 2/2 online");
      const list = deviceListSchema.parse(await (await s.api("/api/devices", { token: admin })).json());
      const fleet = list.devices.filter((d) => d.name.startsWith("wsfleet-"));
      expect(fleet.map((d) => [d.online, d.transport])).toEqual([
        [true, "iot-ws"],
        [true, "iot-ws"],
      ]);
    } finally {
      child.kill("SIGINT");
      expect(await child.exited).toBe(0);
    }
  });
});
