import { type AutomationCondition, dayNumbers } from "../protocol/index.ts";
import type { Zone } from "./zoned-time.ts";

type Op = "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "changed";

/** `power` arrives as "on"/"off" or true/false and both mean the same (CONTRACT.md section 3). */
function normalize(key: string, v: unknown): unknown {
  if (key === "power" && typeof v === "string") {
    if (v.toLowerCase() === "on") return true;
    if (v.toLowerCase() === "off") return false;
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A state value against a comparison. Order comparisons need numbers on both sides (a numeric
 * string counts: some firmware reports "21.5"); anything else does not hold.
 */
export function holds(key: string, actual: unknown, op: Exclude<Op, "changed">, expected: unknown): boolean {
  if (actual === undefined) return false;
  const a = normalize(key, actual);
  const e = normalize(key, expected);
  if (op === "eq") return same(a, e);
  if (op === "ne") return !same(a, e);
  const x = typeof a === "string" && a.trim() !== "" ? Number(a) : a;
  const y = typeof e === "string" && e.trim() !== "" ? Number(e) : e;
  if (typeof x !== "number" || typeof y !== "number" || Number.isNaN(x) || Number.isNaN(y)) return false;
  if (op === "gt") return x > y;
  if (op === "gte") return x >= y;
  if (op === "lt") return x < y;
  return x <= y;
}

/**
 * Whether a state change fires a `device_state` trigger: `changed` on any change of the key,
 * the others when the comparison becomes true (it held not before and holds now), so a sensor
 * reporting 31 °C every minute fires "above 30" once, not every minute.
 */
export function crossed(key: string, before: unknown, after: unknown, op: Op, expected: unknown): boolean {
  if (op === "changed") {
    return (
      before !== undefined && after !== undefined && !same(normalize(key, before), normalize(key, after))
    );
  }
  return holds(key, after, op, expected) && !holds(key, before, op, expected);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

export interface ConditionContext {
  now: number;
  zone: Zone;
  state(deviceId: string): Record<string, unknown> | undefined;
}

/** Whether one condition holds now. */
export function conditionHolds(c: AutomationCondition, ctx: ConditionContext): boolean {
  if (c.type === "device_state") return holds(c.key, ctx.state(c.deviceId)?.[c.key], c.op, c.value);
  const wall = new Date(ctx.zone.wall(ctx.now));
  if (c.days && !dayNumbers(c.days).includes(wall.getUTCDay())) return false;
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const after = c.after ? minutesOf(c.after) : undefined;
  const before = c.before ? minutesOf(c.before) : undefined;
  if (after !== undefined && before !== undefined) {
    // after 22:00 before 06:00 wraps past midnight.
    return after <= before ? minute >= after && minute < before : minute >= after || minute < before;
  }
  if (after !== undefined) return minute >= after;
  if (before !== undefined) return minute < before;
  return true;
}
