/**
 * Issue 16: automations against a real station with firmware-sim devices over MQTT. Device
 * commands go through the device core, so the device really receives them and reports back.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import type { DeviceType } from "../src/protocol/index.ts";
import { createAutomation, finishedRuns, runs } from "./helpers/automations.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;
let member: string;
const sims: SimulatedDevice[] = [];

beforeEach(async () => {
  s = await startTestStation();
  admin = await s.userToken("auto-admin", "admin");
  member = await s.userToken("auto-member", "member");
});
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.stop();
  await s.stop();
});

/** A registered device with a simulator running it (no timer readings: the test sets state). */
async function device(name: string, type: DeviceType) {
  const { device: d, credentials } = await addDevice(s, admin, name, type);
  const sim = simFor(credentials, type, { sensorIntervalMs: 3_600_000 });
  sims.push(sim);
  await sim.start();
  await eventually(
    () => getDevice(s, admin, d.id),
    (x) => x.online,
  );
  return { id: d.id, sim };
}

/** The station applied a state report (and so its triggers have seen it). */
async function reported(id: string, key: string, value: unknown) {
  await eventually(
    () => getDevice(s, admin, id),
    (d) => d.state[key] === value,
  );
}

test("a PIR's motion turns a light on, through the device core (logged as a command)", async () => {
  const pir = await device("Hall PIR", "pir");
  const light = await device("Porch", "light");
  const a = await createAutomation(s, admin, {
    name: "Motion lights the porch",
    triggers: [{ type: "device_state", deviceId: pir.id, key: "motion", op: "eq", value: true }],
    actions: [{ type: "device_command", deviceId: light.id, action: "turn_on" }],
  });
  await pir.sim.publishState({ motion: true });
  await eventually(
    async () => light.sim.state.power,
    (p) => p === "on",
  );
  const [run] = await finishedRuns(s, member, a.id, 1);
  expect(run).toMatchObject({
    ok: true,
    trigger: { type: "device_state", deviceId: pir.id, key: "motion", value: true },
    actions: [{ type: "device_command", ok: true }],
  });
  expect(light.sim.received.map((r) => r.command.action)).toEqual(["turn_on"]);
  // Logged with its requestId like any command.
  const events = (await (await s.api(`/api/devices/${light.id}/events`, { token: member })).json()) as {
    events: { kind: string; data: { action?: string; requestId?: string } }[];
  };
  const sent = events.events.find((e) => e.kind === "command" && e.data.action === "turn_on");
  expect(sent?.data.requestId).toBe(light.sim.received[0]!.command.requestId);
  // Motion still reported true: no crossing, no second run.
  await pir.sim.publishState({ motion: true, extra: 1 });
  await reported(pir.id, "extra", 1);
  expect(await readMetric(s, "opengenie_automation_runs_total")).toBe(1);
});

test("a temperature above a threshold turns a switch off, only while the condition holds", async () => {
  const sensor = await device("Attic sensor", "sensor");
  const fan = await device("Heater", "switch");
  const away = await device("Away mode", "switch");
  await fan.sim.publishState({ power: "on" });
  const a = await createAutomation(s, admin, {
    name: "Too hot: heater off while away",
    triggers: [{ type: "device_state", deviceId: sensor.id, key: "temperature", op: "gt", value: 30 }],
    conditions: [{ type: "device_state", deviceId: away.id, key: "power", op: "eq", value: true }],
    actions: [{ type: "device_command", deviceId: fan.id, action: "turn_off" }],
  });
  // Above the threshold while away is off: the condition does not hold, nothing runs.
  await sensor.sim.publishState({ temperature: 31 });
  await reported(sensor.id, "temperature", 31);
  expect(await readMetric(s, "opengenie_automation_runs_total")).toBe(0);
  // Back below, away on ("on" counts as true), above again: it runs once.
  await sensor.sim.publishState({ temperature: 25 });
  await reported(sensor.id, "temperature", 25);
  await away.sim.publishState({ power: "on" });
  await reported(away.id, "power", "on");
  await sensor.sim.publishState({ temperature: 30.5 });
  await eventually(
    async () => fan.sim.state.power,
    (p) => p === "off",
  );
  await finishedRuns(s, member, a.id, 1);
  // Still above: no crossing, no second command.
  await sensor.sim.publishState({ temperature: 33 });
  await reported(sensor.id, "temperature", 33);
  expect(await readMetric(s, "opengenie_automation_runs_total")).toBe(1);
  expect(fan.sim.received.map((r) => r.command.action)).toEqual(["turn_off"]);
});

test("a failing command is recorded in the run log with its code, and the station carries on", async () => {
  const light = await device("Garage", "light");
  const a = await createAutomation(s, admin, {
    name: "Garage on",
    mode: "queued",
    triggers: [{ type: "device_status", deviceId: light.id, online: false }],
    actions: [
      { type: "device_command", deviceId: light.id, action: "turn_on" },
      { type: "notify", message: "never reached" },
    ],
  });
  await light.sim.stop({ graceful: false });
  // Going offline is the trigger; the command then finds the device offline.
  const [run] = await finishedRuns(s, member, a.id, 1);
  expect(run).toMatchObject({
    ok: false,
    trigger: { type: "device_status", deviceId: light.id, online: false },
    actions: [{ type: "device_command", ok: false, code: "DEVICE_OFFLINE" }],
  });
  expect(run!.error).toContain("offline");
  expect(run!.actions).toHaveLength(1);
  // A manual run fails the same way and is recorded too; the API keeps answering.
  const res = await s.api(`/api/automations/${a.id}/run`, { method: "POST", token: member });
  expect(res.status).toBe(202);
  expect((await finishedRuns(s, member, a.id, 2))[1]).toMatchObject({
    ok: false,
    trigger: { type: "manual" },
  });
  expect((await s.api("/api/health")).status).toBe(200);
});

test("disabled automations never run, by trigger or by hand", async () => {
  const pir = await device("Stairs PIR", "pir");
  const light = await device("Stairs", "light");
  const a = await createAutomation(s, admin, {
    name: "Stairs",
    enabled: false,
    triggers: [{ type: "device_state", deviceId: pir.id, key: "motion", op: "eq", value: true }],
    actions: [{ type: "device_command", deviceId: light.id, action: "turn_on" }],
  });
  await pir.sim.publishState({ motion: true });
  await reported(pir.id, "motion", true);
  const manual = await s.api(`/api/automations/${a.id}/run`, { method: "POST", token: member });
  expect(manual.status).toBe(409);
  expect(await readMetric(s, "opengenie_automation_runs_total")).toBe(0);
  expect(await runs(s, member, a.id)).toEqual([]);
  expect(light.sim.received).toEqual([]);
  // Enabled, the next crossing runs it.
  const patched = await s.api(`/api/automations/${a.id}`, {
    method: "PATCH",
    token: admin,
    body: JSON.stringify({ enabled: true }),
  });
  expect(patched.status).toBe(200);
  await pir.sim.publishState({ motion: false });
  await pir.sim.publishState({ motion: true });
  await finishedRuns(s, member, a.id, 1);
  // The simulator applies a command once its result is acknowledged, which can trail the run.
  await eventually(
    async () => light.sim.state.power,
    (p) => p === "on",
  );
});

test("an unknown device, an action the type lacks or bad params are refused; nothing is stored", async () => {
  const sw = await device("Plug", "switch");
  const lamp = await device("Lamp", "light");
  const base = {
    name: "Bad",
    triggers: [{ type: "device_status", deviceId: sw.id, online: true }],
    actions: [{ type: "device_command", deviceId: sw.id, action: "turn_on" }],
  };
  const bad = [
    { ...base, actions: [{ type: "device_command", deviceId: "nope", action: "turn_on" }] },
    {
      ...base,
      actions: [
        { type: "device_command", deviceId: sw.id, action: "set_brightness", params: { brightness: 5 } },
      ],
    },
    {
      ...base,
      actions: [
        { type: "device_command", deviceId: lamp.id, action: "set_brightness", params: { brightness: 500 } },
      ],
    },
    { ...base, triggers: [{ type: "device_state", deviceId: "ghost", key: "power", op: "changed" }] },
    {
      ...base,
      conditions: [{ type: "device_state", deviceId: "ghost", key: "power", op: "eq", value: "on" }],
    },
    { ...base, triggers: [{ type: "time", cron: "0 0 25 * * *" }] },
    { ...base, triggers: [{ type: "time", cron: "0 0 * * *" }] },
  ];
  for (const body of bad) {
    const res = await s.api("/api/automations", { method: "POST", token: admin, body: JSON.stringify(body) });
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect({ status: res.status, code: json.error.code }).toEqual({ status: 400, code: "VALIDATION_ERROR" });
  }
  const ok = await createAutomation(s, admin, base);
  // A PATCH to an action the type lacks is refused too, and leaves the stored one as it was.
  const patch = await s.api(`/api/automations/${ok.id}`, {
    method: "PATCH",
    token: admin,
    body: JSON.stringify({
      actions: [{ type: "device_command", deviceId: sw.id, action: "set_target", params: { celsius: 20 } }],
    }),
  });
  expect(patch.status).toBe(400);
  const list = (await (await s.api("/api/automations", { token: member })).json()) as {
    automations: unknown[];
  };
  expect(list.automations).toEqual([{ ...ok }]);
  // Its device deleted, the automation can still be switched off (only a new definition is checked).
  expect((await s.api(`/api/devices/${sw.id}`, { method: "DELETE", token: admin })).status).toBe(200);
  const off = await s.api(`/api/automations/${ok.id}`, {
    method: "PATCH",
    token: admin,
    body: JSON.stringify({ enabled: false }),
  });
  expect(off.status).toBe(200);
});
