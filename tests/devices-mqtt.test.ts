import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { type Mosquitto, mosquittoPath, startMosquitto } from "./helpers/mosquitto.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

// The same end-to-end flow against the embedded broker and a real Mosquitto (`.ci/run`
// installs it). Without the binary the Mosquitto half cannot run at all.
const modes = mosquittoPath() ? (["embedded", "mosquitto"] as const) : (["embedded"] as const);

describe.each(modes)("devices over MQTT (%s broker)", (mode) => {
  let s: TestStation;
  let mosquitto: Mosquitto | undefined;
  let admin: string;
  let member: string;
  const sims: SimulatedDevice[] = [];

  beforeAll(async () => {
    if (mode === "mosquitto") mosquitto = await startMosquitto();
    s = await startTestStation({ env: mosquitto ? { OPENGENIE_MQTT_URL: mosquitto.url } : {} });
    admin = await s.userToken("admin1", "admin");
    member = await s.userToken("member1", "member");
  });
  afterAll(async () => {
    for (const sim of sims) await sim.stop({ graceful: true }).catch(() => {});
    await s.stop();
    await mosquitto?.stop();
  });

  function track(sim: SimulatedDevice) {
    sims.push(sim);
    return sim;
  }

  test("health reports the broker mode and connection", async () => {
    const health = (await (await s.api("/api/health")).json()) as {
      mqtt: { mode: string; connected: boolean };
    };
    expect(health.mqtt).toEqual({ mode: mode === "embedded" ? "embedded" : "external", connected: true });
  });

  test("add → handshake → online → state → push → command → applied → result → new state", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${member}`);
    await sock.next();
    const sub = await sock.request("subscribe", { channel: "devices" });
    const subscriptionId = (sub.data as { subscriptionId: string }).subscriptionId;

    const { device, credentials } = await addDevice(s, admin, "Kitchen light", "light");
    expect(credentials).toMatchObject({
      stationId: s.config.stationId,
      deviceId: device.id,
      mqttUsername: device.id,
    });
    expect(credentials.mqttPort).toBe(mosquitto?.port ?? s.info.mqttPort);
    const added = await sock.waitFor((f) => f.event === "device.added");
    expect(added).toMatchObject({
      type: "push",
      channel: "devices",
      subscriptionId,
      data: { device: { id: device.id } },
    });

    const sim = track(simFor(credentials, "light"));
    await sim.start();
    const online = await sock.waitFor((f) => f.event === "device.status");
    expect(online.data).toMatchObject({ deviceId: device.id, online: true });
    const statePush = await sock.waitFor((f) => f.event === "device.state");
    expect((statePush.data as { state: Record<string, unknown> }).state).toMatchObject({ power: "off" });

    const res = await s.api(`/api/devices/${device.id}/commands?wait=3000`, {
      method: "POST",
      token: member,
      body: JSON.stringify({ action: "set_brightness", params: { brightness: 75 } }),
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { requestId: string; status: string };
    expect(result.status).toBe("ok");
    expect(sim.received.at(-1)?.command).toMatchObject({
      action: "set_brightness",
      brightness: 75,
      requestId: result.requestId,
    });

    const pushed = await sock.waitFor(
      (f) =>
        f.event === "device.state" && (f.data as { state: { brightness?: number } }).state.brightness === 75,
    );
    expect((pushed.data as { deviceId: string }).deviceId).toBe(device.id);
    const stored = await eventually(
      () => getDevice(s, member, device.id),
      (d) => d.state.brightness === 75,
    );
    expect(stored).toMatchObject({ online: true, firmwareVersion: "sim-1.0.0" });
    sock.close();
  });

  test("commands: 202 without wait, 400 for bad params or actions, 409 when offline, 403 for guests", async () => {
    const { device, credentials } = await addDevice(s, admin, "Hall switch", "switch");
    const send = (body: unknown, token = member, query = "") =>
      s.api(`/api/devices/${device.id}/commands${query}`, {
        method: "POST",
        token,
        body: JSON.stringify(body),
      });
    const offline = await send({ action: "turn_on" });
    expect(offline.status).toBe(409);
    expect(((await offline.json()) as { error: { code: string } }).error.code).toBe("DEVICE_OFFLINE");

    const sim = track(simFor(credentials, "switch"));
    await sim.start();
    const sent = await send({ action: "turn_on" });
    expect(sent.status).toBe(202);
    expect(((await sent.json()) as { status: string }).status).toBe("sent");
    await eventually(
      () => getDevice(s, member, device.id),
      (d) => d.state.power === "on",
    );
    for (const bad of [
      { action: "set_brightness", params: { brightness: 50 } },
      { action: "fly" },
      { action: "turn_on", params: { x: 1 } },
    ]) {
      const res = await send(bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
    }
    const guest = await s.userToken(`guest-${mode}`, "guest");
    expect((await send({ action: "turn_on" }, guest)).status).toBe(403);
    const events = (await (
      await s.api(`/api/devices/${device.id}/events?limit=20`, { token: member })
    ).json()) as {
      events: { kind: string; data: { action?: string } }[];
    };
    expect(events.events.some((e) => e.kind === "command" && e.data.action === "turn_on")).toBe(true);
    expect(events.events.some((e) => e.kind === "status")).toBe(true);
  });

  test("malformed and schema-violating payloads are counted, logged and never stored", async () => {
    const { device, credentials } = await addDevice(s, admin, "Sensor", "sensor");
    const sim = track(simFor(credentials, "sensor", { sensorIntervalMs: 60_000 }));
    await sim.start();
    const before = await eventually(
      () => getDevice(s, member, device.id),
      (d) => d.state.temperature !== undefined,
    );
    const rejected = (reason: string) =>
      readMetric(s, "opengenie_device_messages_rejected_total", { reason });
    const [notJsonBefore, invalidBefore] = [await rejected("not_json"), await rejected("invalid")];
    await sim.publishRaw("state", "{not json");
    await sim.publishRaw("state", JSON.stringify({ state: "hot" }));
    await sim.publishRaw("event", JSON.stringify({ event: "explode", data: {} }));
    await sim.publishRaw("heartbeat", JSON.stringify({ status: 7 }));
    await sim.publishState({ humidity: 12 });
    const after = await eventually(
      () => getDevice(s, member, device.id),
      (d) => d.state.humidity === 12,
    );
    expect(after.state.temperature).toBe(before.state.temperature);
    expect(Object.keys(after.state).sort()).toEqual(["humidity", "temperature"]);
    // They were published before the good report on the same connection, so all are counted now.
    expect((await rejected("not_json")) - notJsonBefore).toBe(1);
    expect((await rejected("invalid")) - invalidBefore).toBe(3);
    expect(s.logger.lines.some((l) => l.includes("rejected device message") && l.includes(device.id))).toBe(
      true,
    );
    const events = (await (await s.api(`/api/devices/${device.id}/events`, { token: member })).json()) as {
      events: { kind: string }[];
    };
    expect(events.events.every((e) => e.kind !== "explode")).toBe(true);
  });

  test("offline after the last will", async () => {
    const { device, credentials } = await addDevice(s, admin, "Porch PIR", "pir");
    const sim = simFor(credentials, "pir", { sensorIntervalMs: 60_000, reconnect: false });
    await sim.start();
    await eventually(
      () => getDevice(s, member, device.id),
      (d) => d.online,
    );
    await sim.stop({ graceful: false });
    await eventually(
      () => getDevice(s, member, device.id),
      (d) => !d.online,
    );
  });

  test("a device handshaking under an id the registry does not know gets unknown_device", async () => {
    if (mode === "embedded") {
      // The embedded broker refuses strangers at CONNECT already.
      const { credentials } = await addDevice(s, admin, "Real", "light");
      const stranger = simFor({ ...credentials, deviceId: "dev_000000000000" }, "light", {
        reconnect: false,
      });
      await expect(stranger.start()).rejects.toThrow(/refused|not authorized|bad user/i);
      return;
    }
    const stranger = simFor(
      {
        stationId: s.config.stationId,
        deviceId: "dev_ffffffffffff",
        mqttHost: "127.0.0.1",
        mqttPort: mosquitto!.port,
        mqttUsername: "x",
        mqttPassword: "x",
      },
      "light",
      { reconnect: false },
    );
    await expect(stranger.start()).rejects.toThrow(/unknown_device/);
    await stranger.stop({ graceful: true });
    // A stranger's state for a made-up id changes nothing stored.
    const list = (await (await s.api("/api/devices", { token: member })).json()) as {
      devices: { id: string }[];
    };
    expect(list.devices.some((d) => d.id === "dev_ffffffffffff")).toBe(false);
  });
});
