import { randomBytes } from "node:crypto";
import { StationError } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Automation, RunTrigger } from "../protocol/index.ts";
import type { AutomationStore } from "./automation-store.ts";
import { type ActionDeps, runActions } from "./run-actions.ts";

/**
 * Loop protection: more starts than this within a minute, by device triggers (or by hand, then
 * refused rather than suspended), suspends the automation. Time triggers do not count.
 */
export const MAX_RUNS_PER_MINUTE = 20;
/** Mode `queued`: runs waiting behind the current one; more are dropped and counted. */
export const MAX_QUEUED_RUNS = 10;

export interface RunnerDeps extends ActionDeps {
  store: AutomationStore;
  logger: Logger;
  maxRunsPerMinute?: number;
  /** Called when loop protection cuts an automation off. */
  suspend(automationId: string, reason: string): void;
}

interface Runtime {
  current?: { runId: string; abort: AbortController; done: Promise<void> };
  queue: RunTrigger[];
  /** Start times within the last minute. */
  starts: number[];
}

export type RunStatus = { status: "started" | "queued" | "skipped"; runId?: string };

/** Runs automations: modes single/restart/queued, loop protection, and the run log. */
export function createAutomationRunner(deps: RunnerDeps) {
  const { clock, bus, store, logger } = deps;
  const runtimes = new Map<string, Runtime>();
  const counters = { runs: 0, failed: 0, suspended: 0, dropped: 0 };
  let seq = 0;

  const runtimeOf = (id: string) => {
    let r = runtimes.get(id);
    if (!r) {
      r = { queue: [], starts: [] };
      runtimes.set(id, r);
    }
    return r;
  };

  /** Sortable: start time, then a per-process sequence, then randomness. */
  const newRunId = (at: number) =>
    `${at.toString(16).padStart(12, "0")}-${(seq++ % 0xffffff).toString(16).padStart(6, "0")}-${randomBytes(4).toString("hex")}`;

  const limit = () => deps.maxRunsPerMinute ?? MAX_RUNS_PER_MINUTE;

  /** Whether this minute's starts have reached the limit (older ones forgotten). */
  function atLimit(r: Runtime): boolean {
    const now = clock.now();
    r.starts = r.starts.filter((t) => t > now - 60_000 && t <= now);
    return r.starts.length >= limit();
  }

  /**
   * False when this start would be one too many this minute. A trigger over the limit means a
   * loop and suspends the automation; a manual run over it is only dropped: a member, who may
   * run but not change automations, must not be able to disable one by asking 21 times.
   */
  function admit(a: Automation, r: Runtime, trigger: RunTrigger): boolean {
    // No action makes the clock tick: a cron every second is a schedule, not a loop.
    if (trigger.type === "time") return true;
    if (!atLimit(r)) {
      r.starts.push(clock.now());
      return true;
    }
    if (trigger.type === "manual") {
      counters.dropped++;
      logger.warn("manual run dropped: the automation's runs per minute are used up", { automationId: a.id });
      return false;
    }
    counters.suspended++;
    const reason = `more than ${limit()} runs within a minute: its actions probably trigger it again`;
    logger.warn("automation suspended", { automationId: a.id, reason });
    cancel(a.id, "suspended");
    deps.suspend(a.id, reason);
    return false;
  }

  function start(a: Automation, trigger: RunTrigger, r: Runtime): string {
    const startedAt = clock.now();
    const runId = newRunId(startedAt);
    const abort = new AbortController();
    counters.runs++;
    bus.emit("automation.fired", { automationId: a.id, runId, at: startedAt });
    const done = (async () => {
      try {
        await store.startRun({ id: runId, automationId: a.id, trigger, startedAt });
        const result = await runActions(deps, a.actions, { automationId: a.id, runId, signal: abort.signal });
        await store.finishRun(runId, { finishedAt: clock.now(), ...result });
        if (!result.ok && !abort.signal.aborted) {
          counters.failed++;
          bus.emit("automation.failed", {
            automationId: a.id,
            runId,
            error: result.error ?? "failed",
            at: clock.now(),
          });
        }
      } catch (err) {
        logger.error("automation run could not be recorded", { automationId: a.id, runId, err });
      } finally {
        if (r.current?.runId === runId) r.current = undefined;
        const next = r.queue.shift();
        if (next && !r.current) launch(a.id, next);
      }
    })();
    r.current = { runId, abort, done };
    return runId;
  }

  /** The latest definition is read when a queued run starts. */
  let lookup: (id: string) => Automation | undefined = () => undefined;
  function launch(id: string, trigger: RunTrigger) {
    const a = lookup(id);
    const r = runtimeOf(id);
    if (!a?.enabled) {
      r.queue = [];
      return;
    }
    if (admit(a, r, trigger)) start(a, trigger, r);
  }

  function cancel(id: string, why: string) {
    const r = runtimes.get(id);
    if (!r) return;
    r.queue = [];
    r.current?.abort.abort(`cancelled: ${why}`);
  }

  return {
    counters,
    /** Runs in progress or queued, all automations together. */
    active: () => [...runtimes.values()].reduce((n, r) => n + (r.current ? 1 : 0) + r.queue.length, 0),
    setLookup(fn: (id: string) => Automation | undefined) {
      lookup = fn;
    },
    /** A trigger fired (conditions already checked) or someone asked for a run. */
    trigger(a: Automation, trigger: RunTrigger): RunStatus {
      const r = runtimeOf(a.id);
      if (trigger.type === "manual" && atLimit(r)) {
        throw new StationError(
          "RATE_LIMITED",
          `automation ${a.name} ran ${limit()} times within the last minute; try again later`,
        );
      }
      if (r.current) {
        if (a.mode === "single") {
          logger.debug("automation already running; trigger ignored (mode single)", { automationId: a.id });
          return { status: "skipped" };
        }
        if (a.mode === "queued") {
          if (r.queue.length >= MAX_QUEUED_RUNS) {
            counters.dropped++;
            logger.warn("automation queue full; run dropped", { automationId: a.id });
            return { status: "skipped" };
          }
          r.queue.push(trigger);
          return { status: "queued" };
        }
        // restart: the running one is cancelled, then this one starts.
        r.current.abort.abort("cancelled: restarted by a new trigger");
        r.current = undefined;
      }
      if (!admit(a, r, trigger)) return { status: "skipped" };
      return { status: "started", runId: start(a, trigger, r) };
    },
    /** Disabled, edited or deleted: queued runs go, a run in progress is cancelled. */
    cancel,
    forget(id: string) {
      cancel(id, "deleted");
      runtimes.delete(id);
    },
    /** Resets loop protection (an admin enabled it again). */
    resetLimit(id: string) {
      const r = runtimes.get(id);
      if (r) r.starts = [];
    },
    async stop() {
      const pending = [...runtimes.values()].flatMap((r) => (r.current ? [r.current.done] : []));
      for (const id of runtimes.keys()) cancel(id, "station stopping");
      await Promise.allSettled(pending);
      runtimes.clear();
    },
  };
}

export type AutomationRunner = ReturnType<typeof createAutomationRunner>;
