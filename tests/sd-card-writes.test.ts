import { afterAll, beforeAll, expect } from "bun:test";
import { readFileSync } from "node:fs";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { STATE_HISTORY_WINDOW_MS } from "../src/devices/disk-diet.ts";
import { deviceEventListSchema } from "../src/protocol/index.ts";
import { databasePath } from "../src/storage/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS, onDeno } from "./helpers/station-runtime.ts";
import { storedState } from "./helpers/stored-state.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const test = bunOnly(CLOCK_ONLY_IN_PROCESS);
const clock = createManualClock(Date.now());
let s: TestStation;
let admin: string;
let sim: SimulatedDevice;
let deviceId: string;

const stateHistory = async () =>
  deviceEventListSchema
    .parse(await (await s.api(`/api/devices/${deviceId}/events?limit=100`, { token: admin })).json())
    .events.filter((e) => e.kind === "state")
    .map((e) => ({ data: e.data as Record<string, unknown>, at: e.at }));

/** Lets timers due on the injected clock run (the writer flushes every second). */
async function advance(ms: number) {
  clock.advance(ms);
  await Bun.sleep(20);
}

beforeAll(async () => {
  if (onDeno) return;
  s = await startTestStation({ clock });
  admin = await s.userToken("sd-admin", "admin");
  const d = await addDevice(s, admin, "Hall sensor", "sensor");
  deviceId = d.device.id;
  sim = simFor(d.credentials, "sensor", { sensorIntervalMs: 600_000 });
  await sim.start();
  await eventually(
    () => getDevice(s, admin, deviceId),
    (dev) => dev.online,
  );
});

afterAll(async () => {
  await sim?.stop();
  await s?.stop();
});

test("a new database uses 1 KiB pages", () => {
  // SQLite's header: the page size is the big-endian u16 at byte 16.
  const header = readFileSync(databasePath(s.dataDir)).subarray(0, 18);
  expect(header.readUInt16BE(16)).toBe(1024);
});

test("state history: the first change of a minute at once, later ones merged into one row with the latest values; repeats write nothing", async () => {
  await advance(STATE_HISTORY_WINDOW_MS);
  const before = (await stateHistory()).length;
  const t0 = clock.now();
  await sim.publishState({ temperature: 20.5 });
  await eventually(stateHistory, (h) => h.length === before + 1);
  // The same value again, three times: nothing new in the history.
  for (let i = 0; i < 3; i++) await sim.publishState({ temperature: 20.5 });
  await advance(10_000);
  await sim.publishState({ temperature: 21 });
  await advance(10_000);
  const t2 = clock.now();
  await sim.publishState({ temperature: 22, humidity: 40 });
  // The latest state is there at once; the history holds the window's first row only.
  await eventually(
    () => getDevice(s, admin, deviceId),
    (d) => d.state.temperature === 22 && d.state.humidity === 40,
  );
  let history = await stateHistory();
  expect(history.length).toBe(before + 1);
  expect(history[0]).toEqual({ data: { temperature: 20.5 }, at: t0 });
  // Once the window is over, one row with the latest value of every key that changed in it.
  await advance(STATE_HISTORY_WINDOW_MS - 20_000 + 5_000);
  history = await eventually(stateHistory, (h) => h.length === before + 2);
  expect(history[0]).toEqual({ data: { temperature: 22, humidity: 40 }, at: t2 });
});

test("embedded broker: state reports keep the writer's once-a-second commits (acks do not force flushes)", async () => {
  await advance(2_000);
  // 16 reports without the clock moving: as many as forced a flush when acks waited for writes.
  for (let i = 1; i <= 16; i++) await sim.publishState({ temperature: 30 + i });
  await eventually(
    () => getDevice(s, admin, deviceId),
    (d) => d.state.temperature === 46,
  );
  await Bun.sleep(200);
  expect(storedState(s.dataDir, deviceId)?.temperature).not.toBe(46);
  // The writer's interval commits it: kill -9 would have lost at most this second.
  await advance(1_000);
  await eventually(
    async () => storedState(s.dataDir, deviceId),
    (st) => st?.temperature === 46,
  );
});
