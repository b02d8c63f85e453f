/**
 * When a time trigger fires next, as an instant, across DST changes (docs/automations.md):
 * - A schedule with fixed hours (`{at:"02:30"}`, `0 30 2 * * *`) fires once per matching wall
 *   time: a time that a spring-forward gap skips fires right after the gap (02:30 becomes 03:30,
 *   as Temporal's "compatible" rule and Vixie cron do), and a time that a fall-back overlap
 *   repeats fires on its first occurrence only. So a daily run is never skipped nor doubled.
 * - A schedule over every hour (`0/10 * * * * *`, every ten seconds) follows real time: it fires at every instant
 *   whose wall time matches, the repeated hour included, and a skipped hour simply has none.
 */
import { type CronSpec, nextWallTime } from "./cron.ts";
import type { Zone } from "./zoned-time.ts";

const NEAR_MS = 3 * 3_600_000;

/** The first instant after `a` whose offset is not `offset` (b has another offset). */
function transitionBetween(zone: Zone, a: number, b: number, offset: number): number {
  let lo = a;
  let hi = b;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (mid <= lo) break;
    if (zone.offset(mid) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Every-hour schedules: the next instant after `ref` whose wall time matches. */
function nextRealTime(spec: CronSpec, zone: Zone, ref: number): number | undefined {
  let from = ref;
  let offset = zone.offset(ref);
  for (let i = 0; i < 8; i++) {
    const wall = nextWallTime(spec, from + offset);
    if (wall === undefined) return undefined;
    const t = wall - offset;
    if (zone.offset(t) === offset) return t;
    // A change of offset before t: carry on from it under the new offset.
    const change = transitionBetween(zone, from, t, offset);
    offset = zone.offset(change);
    from = change - 1;
  }
  return undefined;
}

/** A wall time's instant, gaps shifted forward by the gap's length, overlaps on their first pass. */
function compatibleInstant(zone: Zone, wall: number): number {
  const instants = zone.instants(wall);
  if (instants.length > 0) return instants[0]!;
  return wall - zone.offset(wall - NEAR_MS);
}

/** Fixed-hour schedules: the first matching wall time whose (compatible) instant is after `ref`. */
function nextWallSlot(spec: CronSpec, zone: Zone, ref: number): number | undefined {
  // Near a change of offset the wall time of `ref` may already be past slots still to come
  // (a shifted gap slot) or ahead of ones passed: start a few hours back and compare instants.
  const near = zone.offset(ref - NEAR_MS) !== zone.offset(ref + NEAR_MS);
  let wall: number | undefined = zone.wall(ref) - (near ? NEAR_MS : 0);
  for (let i = 0; i < 100_000; i++) {
    wall = nextWallTime(spec, wall);
    if (wall === undefined) return undefined;
    const t = compatibleInstant(zone, wall);
    if (t > ref) return t;
  }
  return undefined;
}

/** The next fire time strictly after `ref`, or undefined if the expression never matches again. */
export function nextFireTime(spec: CronSpec, zone: Zone, ref: number): number | undefined {
  return spec.everyHour ? nextRealTime(spec, zone, ref) : nextWallSlot(spec, zone, ref);
}
