import { type BackoffOptions, backoffDelay, type Clock } from "../../src/core/index.ts";

/** The HOS SDK's schedule: 1 s doubling to 30 s, ±10 %. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, jitter: 0.1 };

export interface ReconnectScheduleDeps {
  clock: Pick<Clock, "setTimeout" | "clearTimeout">;
  /** The jitter's random source, in [0, 1). */
  random: () => number;
  backoff: BackoffOptions;
}

/** When the next reconnect runs: capped, jittered backoff over the failures since the last success. */
export function createReconnectSchedule({ clock, random, backoff }: ReconnectScheduleDeps) {
  let failures = 0;
  let timer: ReturnType<typeof clock.setTimeout> | undefined;

  return {
    /** Runs `retry` after the next backoff delay; the attempt counts from 1 since the last success. */
    schedule(retry: () => void): { attempt: number; delayMs: number } {
      const delayMs = backoffDelay(failures, backoff, random);
      failures++;
      timer = clock.setTimeout(() => {
        timer = undefined;
        retry();
      }, delayMs);
      return { attempt: failures, delayMs };
    },
    /** A success: the next failure waits the initial delay again. */
    succeeded() {
      failures = 0;
    },
    /** Drops a scheduled retry, if any. */
    cancel() {
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
