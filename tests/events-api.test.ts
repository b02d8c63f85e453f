import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { type DeviceEvent, deviceEventListSchema } from "../src/protocol/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;
let sim: SimulatedDevice;
let deviceId: string;
// Event times come from the injected clock, so each press below gets a time of its own.
const clock = createManualClock(Date.now());

/** The protocol's event; every event this test reads carries an object as `data`. */
type Event = DeviceEvent & { data: Record<string, unknown> };
const events = async (query = "") =>
  deviceEventListSchema.parse(
    await (await s.api(`/api/devices/${deviceId}/events${query}`, { token: admin })).json(),
  ).events as Event[];

beforeAll(async () => {
  s = await startTestStation({ clock });
  admin = await s.userToken("ev-admin", "admin");
  const d = await addDevice(s, admin, "Motion", "pir");
  deviceId = d.device.id;
  sim = simFor(d.credentials, "pir", { sensorIntervalMs: 600_000 });
  await sim.start();
  for (let i = 1; i <= 5; i++) {
    await sim.publishEvent("user_event", { press: i });
    await eventually(
      () => events(),
      (list) => list.some((e) => e.data.press === i),
    );
    clock.advance(1000);
  }
  await sim.publishState({ motion: true });
  await eventually(
    () => getDevice(s, admin, deviceId),
    (d) => d.state.motion === true,
  );
});
afterAll(async () => {
  await sim.stop();
  await s.stop();
});

test("events are newest first with every kind: status, state, device/user events, commands", async () => {
  await s.api(`/api/devices/${deviceId}/commands?wait=3000`, {
    method: "POST",
    token: admin,
    body: JSON.stringify({ action: "reboot" }),
  });
  const all = await eventually(
    () => events("?limit=100"),
    (list) => list.some((e) => e.kind === "command"),
  );
  const kinds = new Set(all.map((e) => e.kind));
  for (const kind of ["status", "state", "user_event", "command"]) expect(kinds.has(kind)).toBe(true);
  const ids = all.map((e) => e.id);
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  expect(all.find((e) => e.kind === "state")?.data).toEqual({ motion: true });
  for (const e of all) expect(e.deviceId).toBe(deviceId);
  // The reboot restarts the device's link: the tests after this one publish on the new one.
  const reboot = all.find((e) => e.kind === "command")!;
  await eventually(
    () => events("?limit=100"),
    (list) => list.some((e) => e.kind === "status" && e.id > reboot.id && e.data.online === true),
  );
});

test("limit and before page backwards by id, or by time when before is an epoch-ms value", async () => {
  const presses = (list: Event[]) => list.filter((e) => e.kind === "user_event").map((e) => e.data.press);
  const firstPage = await events("?limit=3");
  expect(firstPage).toHaveLength(3);
  const lastOfPage = firstPage.at(-1)!.id;
  const next = await events(`?limit=100&before=${lastOfPage}`);
  const all = await events("?limit=100");
  // Events added meanwhile have higher ids, so the older ones read twice must agree.
  expect(next.length).toBeGreaterThan(0);
  expect(next).toEqual(all.filter((e) => e.id < lastOfPage));
  const third = all.find((e) => e.data.press === 3)!;
  expect(presses(await events(`?limit=100&before=${third.at}`))).toEqual([2, 1]);
  // An empty before means none (it is not 0, which would return nothing).
  expect((await events("?before=")).length).toBeGreaterThanOrEqual(Math.min(all.length, 50));
  expect((await s.api(`/api/devices/${deviceId}/events?limit=0`, { token: admin })).status).toBe(400);
  expect((await s.api("/api/devices/dev_nope/events", { token: admin })).status).toBe(404);
});

test("oversized or key-flooding state reports are refused and change nothing", async () => {
  const before = await getDevice(s, admin, deviceId);
  // Just over the 64 KiB payload limit: refused, the connection kept. Packets past the framing
  // allowance on top of that end the connection instead (tests/mqtt-limits.test.ts).
  await sim.publishRaw("state", JSON.stringify({ state: { blob: "x".repeat(64 * 1024) } }));
  const flood = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
  await sim.publishRaw("state", JSON.stringify({ state: flood }));
  await sim.publishState({ motion: false });
  const after = await eventually(
    () => getDevice(s, admin, deviceId),
    (d) => d.state.motion === false,
  );
  expect(Object.keys(after.state).sort()).toEqual(Object.keys(before.state).sort());
  expect(sim.connected).toBe(true);
});
