import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/core/index.ts";
import { type FakeStation, startFakeStation } from "./fake-station.ts";
import {
  createSimulatedDevice,
  type SimulatedDevice,
  type SimulatedDeviceOptions,
} from "./simulated-device.ts";

let station: FakeStation;
const devices: SimulatedDevice[] = [];

beforeAll(async () => {
  station = await startFakeStation({
    stationId: "st-test",
    refusedPassword: "bad-token",
    deniedTopic: (topic) => topic.startsWith("station/st-test/device/victim/"),
  });
});
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop({ graceful: true })));
});
afterAll(async () => {
  await station.close();
});

function device(deviceId: string, overrides: Partial<SimulatedDeviceOptions> = {}): SimulatedDevice {
  const created = createSimulatedDevice({
    url: station.url,
    stationId: "st-test",
    deviceId,
    token: "secret",
    type: "light",
    startTimeoutMs: 2_000,
    reconnectPeriodMs: 50,
    ...overrides,
  });
  devices.push(created);
  return created;
}

describe("simulated device", () => {
  test("handshakes, then publishes its full state and a heartbeat once acked", async () => {
    const light = device("light-1");
    await light.start();
    const handshake = await station.next("light-1", "handshake");
    expect(handshake).toEqual({
      type: "light",
      firmwareVersion: "sim-1.0.0",
      chip: "ESP32-SIM",
      heartbeatSec: 30,
    });
    const state = await station.next("light-1", "state");
    expect(state).toMatchObject({ state: { power: "off", brightness: 100 } });
    expect(await station.next("light-1", "heartbeat")).toMatchObject({ status: "online" });
    expect(light.connected && light.ready).toBe(true);
  });

  test("applies set_brightness, answers ok and publishes the new state", async () => {
    const light = device("light-2");
    await light.start();
    await station.next("light-2", "state");
    station.command("light-2", { action: "set_brightness", requestId: "r1", brightness: 75 });
    expect(await station.next("light-2", "command/result")).toEqual({ requestId: "r1", ok: true });
    expect(await station.next("light-2", "state")).toMatchObject({ state: { power: "on", brightness: 75 } });
    expect(light.state.brightness).toBe(75);
    expect(light.received.map((r) => r.command.action)).toEqual(["set_brightness"]);
  });

  test("refuses an unknown action and bad params with ok:false", async () => {
    const sw = device("switch-1", { type: "switch" });
    await sw.start();
    station.command("switch-1", { action: "fly", requestId: "r2" });
    expect(await station.next("switch-1", "command/result")).toEqual({
      requestId: "r2",
      ok: false,
      error: "unsupported action fly",
    });
    const light = device("light-3");
    await light.start();
    station.command("light-3", { action: "set_brightness", requestId: "r3", brightness: "max" });
    expect(await station.next("light-3", "command/result")).toMatchObject({ requestId: "r3", ok: false });
  });

  test("ignores garbage commands and keeps serving", async () => {
    const light = device("light-4");
    await light.start();
    station.rawCommand("light-4", "{not json");
    station.rawCommand("light-4", JSON.stringify({ requestId: 5 }));
    station.command("light-4", { action: "toggle", requestId: "r4" });
    expect(await station.next("light-4", "command/result")).toEqual({ requestId: "r4", ok: true });
    expect(light.received).toHaveLength(1);
    expect(light.state.power).toBe("on");
  });

  test("a power cut delivers the offline last will; a clean stop does not", async () => {
    const cut = device("light-5");
    await cut.start();
    await cut.stop({ graceful: false });
    expect(await station.next("light-5", "heartbeat", (p) => p.status === "offline")).toEqual({
      status: "offline",
    });

    // The broker publishes a will as it handles a lost socket. A witness cut off after the clean
    // stop is handled later, so once its will is in, a will for the clean stop would be too.
    const clean = device("light-6");
    const witness = device("light-6-witness");
    await clean.start();
    await witness.start();
    await clean.stop({ graceful: true });
    await witness.stop({ graceful: false });
    await station.next("light-6-witness", "heartbeat", (p) => p.status === "offline");
    expect(station.all("light-6", "heartbeat").some((p) => p.status === "offline")).toBe(false);
  });

  test("reboot drops the connection (will fires) and handshakes again", async () => {
    const light = device("light-7");
    await light.start();
    await station.next("light-7", "handshake");
    station.command("light-7", { action: "ota_update", requestId: "r5", url: "https://x/fw-2.1.0.bin" });
    expect(await station.next("light-7", "command/result")).toEqual({ requestId: "r5", ok: true });
    await station.next("light-7", "heartbeat", (p) => p.status === "offline");
    expect(await station.next("light-7", "handshake")).toMatchObject({ firmwareVersion: "2.1.0" });
    expect(light.firmwareVersion).toBe("2.1.0");
  });

  test("start() rejects on unknown_device, refused credentials and no Wi-Fi", async () => {
    station.unknownDevices.add("ghost");
    await expect(device("ghost").start()).rejects.toThrow(/unknown_device/);
    await expect(device("light-8", { token: "bad-token" }).start()).rejects.toThrow(/refused CONNECT/);
    await expect(device("light-9", { wifiOk: false }).start()).rejects.toThrow(/Wi-Fi/);
  });

  test("a PIR reports motion as a device_event; a sensor reads on its clock", async () => {
    const pir = device("pir-1", { type: "pir", motionHoldMs: 20 });
    await pir.start();
    await pir.triggerMotion();
    expect(await station.next("pir-1", "event")).toMatchObject({
      event: "device_event",
      data: { motion: true },
    });
    expect(await station.next("pir-1", "state", (p) => p.state?.motion === false)).toBeDefined();

    const clock = createManualClock();
    const sensor = device("sensor-1", { type: "sensor", clock, sensorIntervalMs: 5_000 });
    await sensor.start();
    await station.next("sensor-1", "state");
    clock.advance(5_000);
    const reading = await station.next("sensor-1", "state");
    expect(Object.keys(reading.state ?? {}).sort()).toEqual(["humidity", "temperature"]);
  });

  test("reports refused subscriptions and unacknowledged publishes outside its ACL", async () => {
    const intruder = device("light-10");
    await intruder.start();
    expect(await intruder.subscribeRaw("station/st-test/device/victim/command")).toBe(false);
    expect(await intruder.subscribeRaw("station/st-test/device/light-10/command")).toBe(true);
    const victimState = "station/st-test/device/victim/state";
    expect(await intruder.publishToTopic(victimState, { state: { power: "on" } }, 300)).toBe(false);
    expect(station.all("victim", "state")).toHaveLength(0);
  });
});
