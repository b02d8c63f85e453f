import { afterAll, beforeAll, expect, test } from "bun:test";
import { eventually, getDevice } from "./helpers/devices.ts";
import {
  answerTo,
  connectDriver,
  discovered,
  driverToken,
  registerDriver,
  stationIdOf,
} from "./helpers/drivers.ts";
import { readMetric } from "./helpers/metrics.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

// CONTRACT.md section 4 `/driver`, walked over real sockets as a HOS driver and an app see it.
let s: TestStation;
let admin: string;
let member: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("drv-admin", "admin");
  member = await s.userToken("drv-member", "member");
});
afterAll(() => s.stop());

const command = (id: string, body: unknown, query = "") =>
  s.api(`/api/devices/${id}/commands${query}`, { method: "POST", token: member, body: JSON.stringify(body) });

async function subscribedApp() {
  const app = await openSocket(`${s.wsUrl}/ws?token=${member}`);
  await app.next(); // welcome
  expect((await app.request("subscribe", { channel: "devices" })).type).toBe("result");
  return app;
}

test("the HOS flow: CONNECTED, register, discover, state, a command through the API, ACTION, ACTION_RESULT, 200, state pushed", async () => {
  const token = await driverToken(s, "CONFORMANCE");
  const app = await subscribedApp();
  const d = await connectDriver(s, { token });
  await registerDriver(d, "CONFORMANCE", "conformance-1");

  d.send(discovered("hvac-1"));
  const added = await app.waitFor((f) => f.event === "device.added");
  const device = (added.data as { device: { id: string } }).device;
  expect(device).toMatchObject({ name: "Hall thermostat", type: "climate", transport: "driver" });
  const id = device.id;
  expect(id).toBe(await stationIdOf(s, admin, "CONFORMANCE", "hvac-1"));

  d.send({
    event: "STATE_UPDATE",
    device_id: "hvac-1",
    data: { current_celsius: 19.5, target_celsius: 21, extras: { sensors: { humidity: { value: 40 } } } },
  });
  const state = await app.waitFor((f) => f.event === "device.state");
  expect(state.data).toMatchObject({
    deviceId: id,
    state: { current_celsius: 19.5, target_celsius: 21, extras: { sensors: { humidity: { value: 40 } } } },
  });

  d.send({
    event: "METRIC_UPDATE",
    device_id: "hvac-1",
    data: {
      metrics: [
        { key: "current_celsius", value: 19.5, unit: "°C" },
        { key: "locked", value: true },
      ],
    },
  });
  const shown = await eventually(
    () => getDevice(s, admin, id),
    (dev) => (dev.metrics ?? []).length === 2,
  );
  expect(shown).toMatchObject({
    online: true,
    metrics: [
      { key: "current_celsius", value: 19.5, unit: "°C" },
      { key: "locked", value: true },
    ],
    commands: [
      { action: "set_target", label: "Setpoint" },
      { action: "refresh_state", label: "Refresh" },
    ],
  });

  const pending = command(id, { action: "set_target", params: { celsius: 23 } }, "?wait=5000");
  const action = await d.waitFor((f) => f.event === "ACTION");
  const requestId = (action.data as { requestId: string }).requestId;
  expect(action).toEqual({
    event: "ACTION",
    device_id: "hvac-1",
    data: { command: "set_target", payload: { celsius: 23 }, requestId },
  });
  d.send({
    event: "ACTION_RESULT",
    device_id: "hvac-1",
    data: { command: "set_target", success: true, requestId },
  });
  const res = await pending;
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ requestId, status: "ok" });

  d.send({ event: "STATE_UPDATE", device_id: "hvac-1", data: { target_celsius: 23 } });
  const merged = await app.waitFor(
    (f) =>
      f.event === "device.state" &&
      (f.data as { state: { target_celsius?: number } }).state.target_celsius === 23,
  );
  // The whole merged state, as for any device.
  expect((merged.data as { state: unknown }).state).toMatchObject({
    current_celsius: 19.5,
    target_celsius: 23,
  });

  // Without ?wait the command is sent and the API answers at once.
  const sent = await command(id, { action: "refresh_state" });
  expect(sent.status).toBe(202);
  const refresh = await d.waitFor((f) => f.event === "ACTION");
  expect(refresh.data).toMatchObject({ command: "refresh_state", payload: {} });
  d.close();
  app.close();
});

test("?wait: 502 DEVICE_ERROR with the driver's message, 504 DEVICE_TIMEOUT; a repeated ACTION_RESULT is ignored", async () => {
  const token = await driverToken(s, "RESULTS");
  const d = await connectDriver(s, { token });
  await registerDriver(d, "RESULTS", "results-1");
  d.send(discovered("hvac-2"));
  const id = await stationIdOf(s, admin, "RESULTS", "hvac-2");
  await eventually(
    () => getDevice(s, admin, id),
    (dev) => dev.online,
  );

  const failing = command(id, { action: "set_target", params: { celsius: 25 } }, "?wait=5000");
  const action = await d.waitFor((f) => f.event === "ACTION");
  const requestId = (action.data as { requestId: string }).requestId;
  d.send({
    event: "ACTION_RESULT",
    device_id: "hvac-2",
    data: { command: "set_target", success: false, requestId, message: "Compressor jammed" },
  });
  const failed = await failing;
  expect(failed.status).toBe(502);
  const body = (await failed.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("DEVICE_ERROR");
  expect(body.error.message).toContain("Compressor jammed");

  // The same result again, now claiming success: nothing changes, and it is counted as ignored.
  const ignoredBefore = await readMetric(s, "opengenie_driver_action_results_ignored_total");
  const eventsBefore = await (await s.api(`/api/devices/${id}/events?limit=500`, { token: admin })).json();
  d.send({
    event: "ACTION_RESULT",
    device_id: "hvac-2",
    data: { command: "set_target", success: true, requestId },
  });
  await eventually(
    () => readMetric(s, "opengenie_driver_action_results_ignored_total"),
    (n) => n === ignoredBefore + 1,
  );
  const eventsAfter = await (await s.api(`/api/devices/${id}/events?limit=500`, { token: admin })).json();
  expect(eventsAfter).toEqual(eventsBefore);

  const silent = await command(id, { action: "set_target", params: { celsius: 26 } }, "?wait=200");
  expect(silent.status).toBe(504);
  expect(((await silent.json()) as { error: { code: string } }).error.code).toBe("DEVICE_TIMEOUT");
  d.close();
});

test("payloadSchema: bad params and unknown actions are VALIDATION_ERROR on POST and on /ws, and never reach the driver", async () => {
  const token = await driverToken(s, "SCHEMA");
  const d = await connectDriver(s, { token });
  await registerDriver(d, "SCHEMA", "schema-1");
  d.send(discovered("hvac-3"));
  const id = await stationIdOf(s, admin, "SCHEMA", "hvac-3");

  // The driver's own schema decides, not the station's climate type (which takes -40..80 °C).
  for (const body of [
    { action: "set_target", params: { celsius: 35 } },
    { action: "set_target", params: {} },
    { action: "set_target", params: { celsius: 20, extra: true } },
    { action: "set_target", params: { celsius: "warm" } },
    { action: "defrost" },
  ]) {
    const res = await command(id, body);
    expect({ body, status: res.status }).toEqual({ body, status: 400 });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
  }
  const over = await command(id, { action: "set_target", params: { celsius: 35 } });
  expect(((await over.json()) as { error: { message: string } }).error.message).toContain("celsius");

  const app = await openSocket(`${s.wsUrl}/ws?token=${member}`);
  await app.next();
  const refused = await app.request("devices.command", { id, action: "set_target", params: { celsius: 4 } });
  expect(refused).toMatchObject({ type: "error", code: "VALIDATION_ERROR" });
  const accepted = await app.request("devices.command", {
    id,
    action: "set_target",
    params: { celsius: 22 },
  });
  expect(accepted).toMatchObject({ type: "result", data: { status: "sent" } });
  // An action only the driver's catalog has.
  expect(await app.request("devices.command", { id, action: "refresh_state" })).toMatchObject({
    type: "result",
  });
  // The only ACTIONs the driver got are the valid ones.
  const action = await d.waitFor((f) => f.event === "ACTION");
  expect(action.data).toMatchObject({ command: "set_target", payload: { celsius: 22 } });
  await d.waitFor((f) => f.event === "ACTION");
  expect(d.frames.filter((f) => (f as { event?: string }).event === "ACTION")).toHaveLength(2);
  app.close();
  d.close();
});

test("a driver's devices go offline when its session ends (409 DEVICE_OFFLINE) and online when it registers again", async () => {
  const token = await driverToken(s, "PRESENCE");
  const app = await subscribedApp();
  const first = await connectDriver(s, { token });
  await registerDriver(first, "PRESENCE", "presence-1");
  first.send(discovered("hvac-4"));
  const id = await stationIdOf(s, admin, "PRESENCE", "hvac-4");
  await app.waitFor((f) => f.event === "device.status" && (f.data as { deviceId: string }).deviceId === id);

  first.close();
  const offline = await app.waitFor(
    (f) => f.event === "device.status" && (f.data as { deviceId: string; online: boolean }).online === false,
  );
  expect(offline.data).toMatchObject({ deviceId: id, online: false });
  const refused = await command(id, { action: "refresh_state" }, "?wait=1000");
  expect(refused.status).toBe(409);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("DEVICE_OFFLINE");
  // Validation still comes first: an unknown action is 400 whether or not the driver is there.
  expect((await command(id, { action: "defrost" })).status).toBe(400);

  // Registering again is enough: no new DEVICE_DISCOVERED needed.
  const again = await connectDriver(s, { token });
  await registerDriver(again, "PRESENCE", "presence-1");
  const online = await app.waitFor(
    (f) => f.event === "device.status" && (f.data as { deviceId: string; online: boolean }).online === true,
  );
  expect(online.data).toMatchObject({ deviceId: id, online: true });
  const pending = command(id, { action: "refresh_state" }, "?wait=5000");
  const action = await again.waitFor((f) => f.event === "ACTION");
  const requestId = (action.data as { requestId: string }).requestId;
  again.send({
    event: "ACTION_RESULT",
    device_id: "hvac-4",
    data: { command: "refresh_state", success: true, requestId },
  });
  expect((await pending).status).toBe(200);
  again.close();
  app.close();
});

test("DEVICE_UPDATED renames; DELETE removes a driver device without telling the driver, until it is discovered again", async () => {
  const token = await driverToken(s, "LIFECYCLE");
  const d = await connectDriver(s, { token });
  await registerDriver(d, "LIFECYCLE", "lifecycle-1");
  d.send(discovered("hvac-5", "Attic"));
  const id = await stationIdOf(s, admin, "LIFECYCLE", "hvac-5");

  d.send({
    event: "DEVICE_UPDATED",
    device_id: "hvac-5",
    data: { name: "Loft", properties: { model: "T-2" } },
  });
  await eventually(
    () => getDevice(s, admin, id),
    (dev) => dev.name === "Loft",
  );
  d.send({ event: "STATE_UPDATE", device_id: "hvac-5", data: { current_celsius: 17 } });
  await eventually(
    () => getDevice(s, admin, id),
    (dev) => dev.state.current_celsius === 17,
  );

  const framesBefore = d.frames.length;
  expect((await s.api(`/api/devices/${id}`, { method: "DELETE", token: admin })).status).toBe(200);
  expect((await s.api(`/api/devices/${id}`, { token: admin })).status).toBe(404);
  // The driver is told nothing: the next frame it gets answers its next message.
  const unknown = await answerTo(d, {
    event: "STATE_UPDATE",
    device_id: "hvac-5",
    data: { current_celsius: 18 },
  });
  expect(d.frames.length).toBe(framesBefore + 1);
  expect(unknown).toMatchObject({ ok: false, error: "Unknown device." });
  expect((await s.api(`/api/devices/${id}`, { token: admin })).status).toBe(404);

  d.send(discovered("hvac-5", "Attic again"));
  const back = await eventually(
    () => s.api(`/api/devices/${id}`, { token: admin }),
    (r) => r.status === 200,
  );
  const { device } = (await back.json()) as { device: { name: string; state: object; online: boolean } };
  // The same id, a fresh device: the old state went with the deletion.
  expect(device).toMatchObject({ name: "Attic again", state: {}, online: true });
  d.close();
});

test("drivers appear in GET /api/connections, GET /api/drivers and /metrics", async () => {
  const token = await driverToken(s, "LISTED");
  const d = await connectDriver(s, { token });
  d.send({
    method: "driver.register",
    params: { driverKey: "LISTED", instanceId: "listed-1", protocolVersion: 1, name: "Listed" },
  });
  await d.next();
  d.send(discovered("hvac-6"));
  const id = await stationIdOf(s, admin, "LISTED", "hvac-6");

  const connections = (await (await s.api("/api/connections", { token: admin })).json()) as {
    drivers: { kind: string; principal?: string; messagesIn: number }[];
  };
  expect(connections.drivers).toContainEqual(
    expect.objectContaining({ kind: "driver", principal: "LISTED/listed-1", messagesIn: 2 }),
  );
  const { drivers } = (await (await s.api("/api/drivers", { token: admin })).json()) as {
    drivers: { driverKey: string }[];
  };
  expect(drivers.find((x) => x.driverKey === "LISTED")).toMatchObject({
    driverKey: "LISTED",
    tokenCreatedAt: expect.any(Number),
    sessions: [{ instanceId: "listed-1", name: "Listed", trustedLoopback: false }],
    devices: [{ id, deviceId: "hvac-6", instanceId: "listed-1", name: "Hall thermostat", online: true }],
  });
  expect(await readMetric(s, "opengenie_driver_sessions")).toBeGreaterThanOrEqual(1);
  expect(await readMetric(s, "opengenie_driver_devices")).toBeGreaterThanOrEqual(1);
  d.close();
});
