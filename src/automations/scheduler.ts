/**
 * Time triggers on the injected clock (docs/automations.md, issue 16). One timer for the whole
 * station, never longer than a minute, so a change of the wall clock (an NTP correction on a Pi
 * that booted without an RTC, an admin setting the date) is seen within a minute:
 * - the clock jumps forward past a fire time: if the time passed less than a minute ago it fires
 *   once, late; otherwise it is missed, logged, and the next one is computed from now (no burst);
 * - the clock jumps back: the next time is recomputed from the later of now and the last fire,
 *   so a run that already happened is not repeated;
 * - times missed while the station was down are not replayed, unless the trigger says
 *   `catchUp: true`: then the latest missed one fires once at start.
 */
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import { dayNumbers, type TimeTrigger } from "../protocol/index.ts";
import { atToCron, type CronSpec, parseCron } from "./cron.ts";
import { nextFireTime } from "./next-fire.ts";
import type { Zone } from "./zoned-time.ts";

const MAX_SLEEP_MS = 60_000;
/** A fire time passed by less than this still fires (a busy event loop, a small forward step). */
const LATE_MS = 60_000;
/** A wake this far from when it was due means the wall clock was set. */
const JUMP_MS = 2_000;
/** A last fire further ahead than this is from a clock that was wrong: it no longer holds runs back. */
const FUTURE_LAST_FIRE_MS = 2 * 86_400_000;

export function timeTriggerSpec(trigger: TimeTrigger): CronSpec {
  return parseCron(
    "cron" in trigger ? trigger.cron : atToCron(trigger.at, trigger.days && dayNumbers(trigger.days)),
  );
}

interface Entry {
  automationId: string;
  index: number;
  spec: CronSpec;
  due?: number;
  lastFired?: number;
}

export interface SchedulerDeps {
  clock: Clock;
  zone: Zone;
  logger: Logger;
  /**
   * A time trigger is due (`scheduledAt` is the time it was meant for); `firedThrough` is the
   * fire time to remember for it (later than `scheduledAt` for a catch-up covering several).
   */
  fire(automationId: string, index: number, scheduledAt: number, firedThrough: number): void;
}

export interface ScheduledAutomation {
  id: string;
  triggers: readonly { type: string }[];
  lastFired: Record<string, number>;
  createdAt: number;
}

export function createScheduler(deps: SchedulerDeps) {
  const { clock, zone, logger } = deps;
  const entries = new Map<string, Entry>();
  let timer: TimerHandle | undefined;
  let expectedWake = 0;
  let running = false;

  function from(e: Entry, now: number): number {
    const last = e.lastFired !== undefined && e.lastFired <= now + FUTURE_LAST_FIRE_MS ? e.lastFired : now;
    return Math.max(now, last);
  }

  function fire(e: Entry, scheduledAt: number, firedThrough = scheduledAt) {
    e.lastFired = firedThrough;
    try {
      deps.fire(e.automationId, e.index, scheduledAt, firedThrough);
    } catch (err) {
      logger.error("time trigger handler failed", { automationId: e.automationId, err });
    }
  }

  function wake() {
    timer = undefined;
    const now = clock.now();
    const jumped = Math.abs(now - expectedWake) > JUMP_MS;
    if (jumped) logger.info("wall clock changed; time triggers recomputed", { byMs: now - expectedWake });
    for (const e of [...entries.values()]) {
      if (e.due === undefined) continue;
      if (now >= e.due) {
        if (now - e.due <= LATE_MS) fire(e, e.due);
        else
          logger.warn("time trigger missed (clock jumped forward)", {
            automationId: e.automationId,
            due: e.due,
          });
        e.due = nextFireTime(e.spec, zone, from(e, now));
      } else if (jumped) {
        e.due = nextFireTime(e.spec, zone, from(e, now));
      }
    }
    arm();
  }

  function arm() {
    clock.clearTimeout(timer);
    timer = undefined;
    if (!running || entries.size === 0) return;
    const now = clock.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const e of entries.values()) if (e.due !== undefined && e.due < soonest) soonest = e.due;
    const delay = Math.max(0, Math.min(soonest - now, MAX_SLEEP_MS));
    expectedWake = now + delay;
    timer = clock.setTimeout(wake, delay);
  }

  return {
    /** Schedules an automation's time triggers (replacing earlier ones); `startup` allows catch-up. */
    add(a: ScheduledAutomation, startup = false) {
      this.remove(a.id, false);
      const now = clock.now();
      a.triggers.forEach((t, index) => {
        if (t.type !== "time") return;
        const trigger = t as TimeTrigger;
        const e: Entry = { automationId: a.id, index, spec: timeTriggerSpec(trigger) };
        const last = a.lastFired[String(index)];
        if (last !== undefined) e.lastFired = last;
        if (startup && trigger.catchUp) {
          const missed = nextFireTime(e.spec, zone, last ?? a.createdAt);
          if (missed !== undefined && missed <= now) {
            // Once, however many were missed: a week down is not seven runs, and the fire time
            // remembered is now, so the next start does not replay the missed ones left.
            fire(e, missed, now);
          }
        }
        e.due = nextFireTime(e.spec, zone, from(e, now));
        entries.set(`${a.id}:${index}`, e);
      });
      arm();
    },
    remove(automationId: string, rearm = true) {
      for (const [key, e] of entries) if (e.automationId === automationId) entries.delete(key);
      if (rearm) arm();
    },
    /** The next fire time of each scheduled trigger (for tests and the docs' examples). */
    next(automationId: string): number[] {
      return [...entries.values()]
        .filter((e) => e.automationId === automationId)
        .flatMap((e) => (e.due === undefined ? [] : [e.due]));
    },
    start() {
      running = true;
      arm();
    },
    stop() {
      running = false;
      clock.clearTimeout(timer);
      timer = undefined;
      entries.clear();
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
