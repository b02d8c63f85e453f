/**
 * Issue 16: time triggers on the station's injected clock (no sleeping), across DST changes and
 * wall-clock jumps, and one on the real clock. Runs are read back through the API.
 */
import { afterEach, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config/index.ts";
import { createManualClock } from "../src/core/index.ts";
import {
  advanceInSteps,
  automationService,
  createAutomation,
  finishedRuns,
  getAutomation,
  runs,
} from "./helpers/automations.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

let s: TestStation | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function stationAt(iso: string, timeZone: string) {
  const clock = createManualClock(Date.parse(iso));
  const station = await startTestStation({ clock, env: { OPENGENIE_TIMEZONE: timeZone } });
  s = station;
  await station.addUser("sched-admin", "admin");
  // A long-lived token: the station's clock will move on by days.
  const admin = (
    await cli(station.dataDir, ["token", "create", "--user", "sched-admin", "--ttl", "400d"])
  ).stdout.trim();
  const advance = (ms: number, step?: number) => advanceInSteps(station, clock, ms, step);
  return { station, clock, admin, advance };
}

/** When each recorded run was scheduled for, oldest first. */
async function scheduledTimes(st: TestStation, token: string, id: string, count: number) {
  return (await finishedRuns(st, token, id, count)).map((r) =>
    new Date(r.trigger.scheduledAt!).toISOString(),
  );
}

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a cron trigger with seconds fires on the injected clock, every 5 s, without sleeping",
  async () => {
    const { station, admin, advance } = await stationAt("2026-06-01T10:00:02Z", "UTC");
    const a = await createAutomation(station, admin, {
      name: "Every 5 s",
      triggers: [{ type: "time", cron: "*/5 * * * * *" }],
      actions: [{ type: "notify", message: "tick" }],
    });
    await advance(2_999);
    expect(await runs(station, admin, a.id)).toEqual([]);
    await advance(1);
    await advance(10_000, 1000);
    expect(await scheduledTimes(station, admin, a.id, 3)).toEqual([
      "2026-06-01T10:00:05.000Z",
      "2026-06-01T10:00:10.000Z",
      "2026-06-01T10:00:15.000Z",
    ]);
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a daily run across spring-forward and fall-back is neither skipped nor doubled",
  async () => {
    const { station, clock, admin, advance } = await stationAt("2026-03-28T12:00:00Z", "Europe/Berlin");
    const a = await createAutomation(station, admin, {
      name: "Nightly 02:30",
      triggers: [{ type: "time", at: "02:30" }],
      actions: [{ type: "notify", message: "02:30" }],
    });
    await advance(3 * DAY, HOUR);
    // 29 March has no 02:30: it runs at 03:30 CEST, right after the gap; then 02:30 CEST.
    expect(await scheduledTimes(station, admin, a.id, 3)).toEqual([
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ]);
    // Set the clock to late October (a jump forward: nothing missed is replayed), then across
    // the night 02:30 happens twice.
    clock.jump(Date.parse("2026-10-24T12:00:00Z") - clock.now());
    await advance(3 * DAY, HOUR);
    expect((await scheduledTimes(station, admin, a.id, 6)).slice(3)).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a backwards clock jump does not run a daily trigger twice; a forward one brings no burst",
  async () => {
    const { station, clock, admin, advance } = await stationAt("2026-06-01T11:59:00Z", "UTC");
    const daily = await createAutomation(station, admin, {
      name: "Noon",
      triggers: [{ type: "time", at: "12:00" }],
      actions: [{ type: "notify", message: "noon" }],
    });
    const minutely = await createAutomation(station, admin, {
      name: "Each minute",
      triggers: [{ type: "time", cron: "0 * * * * *" }],
      actions: [{ type: "notify", message: "minute" }],
    });
    await advance(10 * 60_000); // 12:09
    expect(await scheduledTimes(station, admin, daily.id, 1)).toEqual(["2026-06-01T12:00:00.000Z"]);
    await finishedRuns(station, admin, minutely.id, 10);
    // NTP sets the clock back an hour: noon comes round again on the wall clock, but it ran.
    clock.jump(-HOUR); // 11:09
    await advance(HOUR + 5 * 60_000); // 12:14
    expect(await runs(station, admin, daily.id)).toHaveLength(1);
    // The minutely one ran once per minute of wall time it had not covered yet (12:10 … 12:14).
    await finishedRuns(station, admin, minutely.id, 15);
    // Five hours forward at once: no burst of the 300 minutes jumped over, just the next minute.
    clock.jump(5 * HOUR); // 17:14
    await advance(2 * 60_000); // 17:16
    const afterJump = await finishedRuns(station, admin, minutely.id, 16);
    expect(new Date(afterJump[15]!.trigger.scheduledAt!).toISOString()).toBe("2026-06-01T17:16:00.000Z");
    // The next day's noon runs once.
    await advance(DAY, HOUR);
    expect(await scheduledTimes(station, admin, daily.id, 2)).toEqual([
      "2026-06-01T12:00:00.000Z",
      "2026-06-02T12:00:00.000Z",
    ]);
  },
);

test("a real-clock cron trigger fires within 2 s and pushes on the automations channel", async () => {
  s = await startTestStation();
  const admin = await s.userToken("real-admin", "admin");
  const member = await s.userToken("real-member", "member");
  const socket = await openSocket(`${s.wsUrl}/ws?token=${member}`);
  try {
    await socket.next();
    const sub = await socket.request("subscribe", { channel: "automations" });
    expect(sub.type).toBe("result");
    const a = await createAutomation(s, admin, {
      name: "Every second",
      triggers: [{ type: "time", cron: "* * * * * *" }],
      actions: [{ type: "notify", message: "hello" }],
    });
    const fired = await socket.waitFor((f) => f.event === "automation.fired", 2000);
    expect(fired.data).toMatchObject({ automationId: a.id });
    const note = await socket.waitFor((f) => f.event === "automation.notify", 2000);
    expect(note.data).toMatchObject({ automationId: a.id, message: "hello" });
  } finally {
    socket.close();
  }
});

test("OPENGENIE_TIMEZONE must name a time zone", () => {
  const load = (zone: string) =>
    loadConfig({ flags: { "data-dir": "/tmp/x" }, env: { OPENGENIE_TIMEZONE: zone } });
  expect(load("Europe/Berlin").timeZone).toBe("Europe/Berlin");
  expect(() => load("Mars/Olympus_Mons")).toThrow(ConfigError);
  expect(() => load("Mars/Olympus_Mons")).toThrow("IANA time zone");
});

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a cron every second is a schedule, not a loop: it runs 90 times in 90 s and is not suspended",
  async () => {
    const { station, admin, advance } = await stationAt("2026-06-01T10:00:00.500Z", "UTC");
    const a = await createAutomation(station, admin, {
      name: "Every second",
      triggers: [{ type: "time", cron: "* * * * * *" }],
      actions: [{ type: "notify", message: "tick" }],
    });
    await advance(90_000, 1000);
    // Before, loop protection counted these: suspended after 20 runs.
    expect(automationService(station).counters.runs).toBe(90);
    expect(automationService(station).counters.suspended).toBe(0);
    expect((await getAutomation(station, admin, a.id)).enabled).toBe(true);
  },
);
