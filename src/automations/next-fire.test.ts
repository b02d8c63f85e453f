import { expect, test } from "bun:test";
import fc from "fast-check";
import { atToCron, parseCron } from "./cron.ts";
import { nextFireTime } from "./next-fire.ts";
import { createZone } from "./zoned-time.ts";

/** The next `count` fire times after `from`, as ISO strings. */
function fires(expr: string, zone: string, from: string, count = 3): string[] {
  const spec = parseCron(expr);
  const z = createZone(zone);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < count; i++) {
    const next = nextFireTime(spec, z, t);
    if (next === undefined) break;
    out.push(new Date(next).toISOString());
    t = next;
  }
  return out;
}

test("a daily time skipped by spring-forward fires right after the gap, once, then as usual", () => {
  // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that night.
  expect(fires(atToCron("02:30"), "Europe/Berlin", "2026-03-28T12:00:00Z")).toEqual([
    "2026-03-29T01:30:00.000Z", // 03:30 CEST
    "2026-03-30T00:30:00.000Z", // 02:30 CEST
    "2026-03-31T00:30:00.000Z",
  ]);
});

test("a daily time repeated by fall-back fires on its first occurrence only", () => {
  // Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
  expect(fires(atToCron("02:30"), "Europe/Berlin", "2026-10-24T12:00:00Z")).toEqual([
    "2026-10-25T00:30:00.000Z", // 02:30 CEST, the first 02:30
    "2026-10-26T01:30:00.000Z", // 02:30 CET
    "2026-10-27T01:30:00.000Z",
  ]);
  // Asked again during the second 02:29 (as after a restart then), it does not fire again that day.
  expect(fires(atToCron("02:30"), "Europe/Berlin", "2026-10-25T01:29:59Z", 1)).toEqual([
    "2026-10-26T01:30:00.000Z",
  ]);
});

test("an every-hour schedule follows real time through the repeated hour and the skipped one", () => {
  expect(fires("0 5 * * * *", "Europe/Berlin", "2026-10-25T00:10:00Z")).toEqual([
    "2026-10-25T01:05:00.000Z", // 02:05 CET, the repeated hour
    "2026-10-25T02:05:00.000Z",
    "2026-10-25T03:05:00.000Z",
  ]);
  // Every second keeps ticking across both changes: no pause, no hour-long gap.
  expect(fires("* * * * * *", "Europe/Berlin", "2026-10-25T00:59:59Z", 2)).toEqual([
    "2026-10-25T01:00:00.000Z",
    "2026-10-25T01:00:01.000Z",
  ]);
  expect(fires("* * * * * *", "Europe/Berlin", "2026-03-29T00:59:59Z", 2)).toEqual([
    "2026-03-29T01:00:00.000Z",
    "2026-03-29T01:00:01.000Z",
  ]);
});

test("US zones, weekdays and seconds", () => {
  // New York, 8 March 2026 springs forward at 02:00; 02:15 on Sundays becomes 03:15 EDT.
  expect(fires("0 15 2 * * sun", "America/New_York", "2026-03-07T12:00:00Z", 2)).toEqual([
    "2026-03-08T07:15:00.000Z",
    "2026-03-15T06:15:00.000Z",
  ]);
  expect(fires("*/15 * * * * *", "UTC", "2026-06-01T00:00:07Z", 2)).toEqual([
    "2026-06-01T00:00:15.000Z",
    "2026-06-01T00:00:30.000Z",
  ]);
  expect(fires("0 0 12 * * mon-fri", "UTC", "2026-11-28T13:00:00Z", 2)).toEqual([
    "2026-11-30T12:00:00.000Z",
    "2026-12-01T12:00:00.000Z",
  ]);
});

test("bad expressions name the field; an impossible date never fires", () => {
  expect(() => parseCron("* * * * *")).toThrow("6 fields");
  expect(() => parseCron("61 * * * * *")).toThrow("seconds field");
  expect(() => parseCron("0 0 25 * * *")).toThrow("hours field");
  expect(() => parseCron("0 0 0 * * */0")).toThrow("day-of-week field");
  expect(() => parseCron("0 0 0 * foo *")).toThrow("month field");
  expect(fires("0 0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z")).toEqual([]);
});

test("fuzz: any cron text either parses or is refused with an Error; a parsed one always answers", () => {
  const field = fc.oneof(
    fc.constantFrom("*", "?", "*/7", "1-5", "mon-fri", "jan", "0,30", "5/0", "99", "-1", "a-b", ""),
    fc.string({ maxLength: 6 }),
  );
  const zone = createZone("Europe/Berlin");
  fc.assert(
    fc.property(
      fc.array(field, { minLength: 5, maxLength: 7 }),
      fc.integer({ min: 0, max: 4e12 }),
      (fields, at) => {
        let spec: ReturnType<typeof parseCron>;
        try {
          spec = parseCron(fields.join(" "));
        } catch (err) {
          return err instanceof Error && err.message.length > 0;
        }
        const next = nextFireTime(spec, zone, at);
        return next === undefined || next > at;
      },
    ),
    { numRuns: 300 },
  );
});
