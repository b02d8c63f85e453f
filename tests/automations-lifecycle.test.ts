/**
 * Issue 16: loop protection (an automation that triggers itself is suspended, pushed and
 * counted) and a restart (automations, their enabled state and their fire times survive; a time
 * missed while down is replayed only with `catchUp: true`).
 */
import { afterEach, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { MAX_RUNS_PER_MINUTE } from "../src/automations/index.ts";
import { createManualClock } from "../src/core/index.ts";
import {
  automationService,
  createAutomation,
  finishedRuns,
  getAutomation,
  runs,
} from "./helpers/automations.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("an automation whose actions trigger it again is suspended, pushed and counted; the CPU stays free", async () => {
  const s = await startTestStation();
  cleanups.push(() => s.stop());
  const admin = await s.userToken("loop-admin", "admin");
  const { device, credentials } = await addDevice(s, admin, "Flicker", "light");
  const sim: SimulatedDevice = simFor(credentials, "light");
  cleanups.push(() => sim.stop());
  await sim.start();
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.online,
  );
  const socket = await openSocket(`${s.wsUrl}/ws?token=${admin}`);
  cleanups.push(() => socket.close());
  await socket.next();
  await socket.request("subscribe", { channel: "automations" });
  // Each toggle changes power, which triggers the next toggle.
  const a = await createAutomation(s, admin, {
    name: "Feedback loop",
    mode: "queued",
    triggers: [{ type: "device_state", deviceId: device.id, key: "power", op: "changed" }],
    actions: [{ type: "device_command", deviceId: device.id, action: "toggle" }],
  });
  const started = await s.api(`/api/automations/${a.id}/run`, { method: "POST", token: admin });
  expect(started.status).toBe(202);
  const push = await socket.waitFor((f) => f.event === "automation.suspended", 20_000);
  expect(push.data).toMatchObject({ automationId: a.id });
  expect(String((push.data as { reason: string }).reason)).toContain("within a minute");
  const after = await getAutomation(s, admin, a.id);
  expect(after.enabled).toBe(false);
  expect(after.suspendedReason).toContain("within a minute");
  expect(await readMetric(s, "opengenie_automations_suspended_total")).toBe(1);
  // Exactly the allowed number of runs happened, and no more after the cut.
  const list = await finishedRuns(s, admin, a.id, MAX_RUNS_PER_MINUTE, 10_000);
  expect(list).toHaveLength(MAX_RUNS_PER_MINUTE);
  const commands = sim.received.length;
  await sim.publishState({ power: sim.state.power === "on" ? "off" : "on" });
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.state.power === sim.state.power,
  );
  expect(sim.received.length).toBe(commands);
  expect(await runs(s, admin, a.id)).toHaveLength(MAX_RUNS_PER_MINUTE);
  // An admin enabling it again lifts the suspension.
  const res = await s.api(`/api/automations/${a.id}`, {
    method: "PATCH",
    token: admin,
    body: JSON.stringify({
      enabled: true,
      mode: "single",
      triggers: [{ type: "device_status", deviceId: device.id, online: false }],
    }),
  });
  expect(res.status).toBe(200);
  expect((await getAutomation(s, admin, a.id)).suspendedReason).toBeUndefined();
});

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a restart keeps automations and their enabled state; only catchUp replays a missed time, once",
  async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const env = { OPENGENIE_TIMEZONE: "UTC" };
    const first = await startTestStation({
      dataDir: dir.path,
      env,
      clock: createManualClock(Date.parse("2026-06-01T01:00:00Z")),
    });
    let running: TestStation | undefined = first;
    cleanups.push(async () => {
      await running?.stop();
    });
    await first.addUser("restart-admin", "admin");
    const admin = (
      await cli(dir.path, ["token", "create", "--user", "restart-admin", "--ttl", "400d"])
    ).stdout.trim();
    const catchUp = await createAutomation(first, admin, {
      name: "Catch up",
      triggers: [{ type: "time", at: "03:00", catchUp: true }],
      actions: [{ type: "notify", message: "late but done" }],
    });
    const plain = await createAutomation(first, admin, {
      name: "No catch up",
      triggers: [{ type: "time", at: "03:00" }],
      actions: [{ type: "notify", message: "missed" }],
    });
    const disabled = await createAutomation(first, admin, {
      name: "Off",
      enabled: false,
      triggers: [{ type: "time", cron: "* * * * * *" }],
      actions: [{ type: "notify", message: "never" }],
    });
    const before = (await (await first.api("/api/automations", { token: admin })).json()) as object;
    await first.stop();
    running = undefined;
    // With the station stopped, the CLI reads them from the data dir.
    const offline = await cli(dir.path, ["automations", "--json"]);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual(before);

    // Down from 01:00 to 05:00: the 03:00 runs were missed.
    const clock = createManualClock(Date.parse("2026-06-01T05:00:00Z"));
    const second = await startTestStation({ dataDir: dir.path, env, clock });
    running = second;
    expect(await (await second.api("/api/automations", { token: admin })).json()).toEqual(before);
    const [late] = await finishedRuns(second, admin, catchUp.id, 1);
    expect(late!.trigger.scheduledAt).toBe(Date.parse("2026-06-01T03:00:00Z"));
    expect(await runs(second, admin, plain.id)).toEqual([]);
    expect(await runs(second, admin, disabled.id)).toEqual([]);
    expect((await getAutomation(second, admin, disabled.id)).enabled).toBe(false);
    // The next day's 03:00 runs both, once each.
    for (let i = 0; i < 24 * 60; i++) clock.advance(60_000);
    await finishedRuns(second, admin, plain.id, 1);
    await finishedRuns(second, admin, catchUp.id, 2);
    expect(await runs(second, admin, disabled.id)).toEqual([]);
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "modes: single ignores a trigger while running, restart cancels and starts over, queued waits its turn",
  async () => {
    const clock = createManualClock(Date.parse("2026-06-01T12:00:00Z"));
    const s = await startTestStation({ clock });
    cleanups.push(() => s.stop());
    const admin = await s.userToken("modes-admin", "admin");
    const make = (mode: string) =>
      createAutomation(s, admin, {
        name: `Mode ${mode}`,
        mode,
        triggers: [{ type: "time", cron: "0 0 0 1 1 *" }],
        actions: [
          { type: "delay", ms: 10_000 },
          { type: "notify", message: mode },
        ],
      });
    const single = await make("single");
    const restart = await make("restart");
    const queued = await make("queued");
    const run = async (id: string) =>
      (
        (await (await s.api(`/api/automations/${id}/run`, { method: "POST", token: admin })).json()) as {
          status: string;
        }
      ).status;
    expect([await run(single.id), await run(single.id)]).toEqual(["started", "skipped"]);
    expect([await run(restart.id), await run(restart.id)]).toEqual(["started", "started"]);
    expect([await run(queued.id), await run(queued.id)]).toEqual(["started", "queued"]);
    // Time passes a second at a time, with the station's I/O (run records, timers armed after
    // them) in between, until every run and queued run is done.
    for (let i = 0; i < 100 && automationService(s).active() > 0; i++) {
      clock.advance(1000);
      await runs(s, admin, single.id);
    }
    const [cancelled, done] = await finishedRuns(s, admin, restart.id, 2);
    expect(cancelled).toMatchObject({ ok: false, actions: [{ type: "delay", ok: false }] });
    expect(cancelled!.error).toContain("restarted");
    expect(done).toMatchObject({ ok: true });
    expect((await finishedRuns(s, admin, single.id, 1))[0]).toMatchObject({ ok: true });
    const q = await finishedRuns(s, admin, queued.id, 2);
    expect(q.map((r) => r.ok)).toEqual([true, true]);
    expect(q[1]!.startedAt).toBeGreaterThanOrEqual(q[0]!.finishedAt!);
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "catchUp after days down runs once, and a second restart does not replay another missed day",
  async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const env = { OPENGENIE_TIMEZONE: "UTC" };
    const start = (iso: string) =>
      startTestStation({ dataDir: dir.path, env, clock: createManualClock(Date.parse(iso)) });
    let running: TestStation | undefined = await start("2026-06-01T01:00:00Z");
    cleanups.push(async () => {
      await running?.stop();
    });
    await running.addUser("catchup-admin", "admin");
    const admin = (
      await cli(dir.path, ["token", "create", "--user", "catchup-admin", "--ttl", "400d"])
    ).stdout.trim();
    const a = await createAutomation(running, admin, {
      name: "Nightly, caught up",
      triggers: [{ type: "time", at: "03:00", catchUp: true }],
      actions: [{ type: "notify", message: "done" }],
    });
    await running.stop();
    // Down three days: 03:00 on the 1st, 2nd and 3rd were missed; one run makes up for them.
    running = await start("2026-06-03T05:00:00Z");
    await finishedRuns(running, admin, a.id, 1);
    await running.stop();
    // Restarted half an hour later: nothing is left to catch up.
    running = await start("2026-06-03T05:30:00Z");
    // A catch-up starts its run during start-up, so the counter already shows it if there was one.
    expect(automationService(running).counters.runs).toBe(0);
    expect(await runs(running, admin, a.id)).toHaveLength(1);
  },
);
