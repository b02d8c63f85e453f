import { expect, test } from "bun:test";
import { conditionHolds, crossed, holds } from "./conditions.ts";
import { createZone } from "./zoned-time.ts";

const berlin = createZone("Europe/Berlin");
const at = (iso: string) => ({ now: Date.parse(iso), zone: berlin, state: () => undefined });

test("a time window is read on the station's wall clock and may wrap past midnight", () => {
  const night = { type: "time" as const, after: "22:00", before: "06:00" };
  expect(conditionHolds(night, at("2026-06-01T20:30:00Z"))).toBe(true); // 22:30 CEST
  expect(conditionHolds(night, at("2026-06-02T03:59:00Z"))).toBe(true); // 05:59
  expect(conditionHolds(night, at("2026-06-02T04:00:00Z"))).toBe(false); // 06:00
  expect(conditionHolds(night, at("2026-06-01T19:59:00Z"))).toBe(false); // 21:59
  const weekdayMornings = {
    type: "time" as const,
    after: "07:00",
    before: "09:00",
    days: ["mon" as const, 5],
  };
  expect(conditionHolds(weekdayMornings, at("2026-06-01T06:00:00Z"))).toBe(true); // Monday 08:00
  expect(conditionHolds(weekdayMornings, at("2026-06-05T06:00:00Z"))).toBe(true); // Friday
  expect(conditionHolds(weekdayMornings, at("2026-06-02T06:00:00Z"))).toBe(false); // Tuesday
});

test("comparisons: power on/true alike, numbers and numeric strings ordered, other types never", () => {
  expect(holds("power", "on", "eq", true)).toBe(true);
  expect(holds("power", false, "eq", "off")).toBe(true);
  expect(holds("temperature", "30.5", "gt", 30)).toBe(true);
  expect(holds("temperature", "warm", "gt", 30)).toBe(false);
  expect(holds("temperature", undefined, "lt", 30)).toBe(false);
  expect(holds("mode", "eco", "ne", "comfort")).toBe(true);
});

test("a trigger fires when its comparison becomes true, not while it stays true", () => {
  expect(crossed("temperature", 29, 31, "gt", 30)).toBe(true);
  expect(crossed("temperature", 31, 33, "gt", 30)).toBe(false);
  expect(crossed("temperature", undefined, 31, "gt", 30)).toBe(true);
  expect(crossed("power", "off", true, "changed", undefined)).toBe(true);
  expect(crossed("power", "on", true, "changed", undefined)).toBe(false);
  expect(crossed("power", undefined, "on", "changed", undefined)).toBe(false);
});
