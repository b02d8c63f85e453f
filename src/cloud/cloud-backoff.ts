import { type BackoffOptions, backoffDelay } from "../core/index.ts";

/** CONTRACT.md section 7: reconnect after 2 s, doubling up to 60 s, each delay ±20 %. */
export const CLOUD_BACKOFF: BackoffOptions = { initialMs: 2_000, maxMs: 60_000, jitter: 0.2 };

/**
 * How long to wait before connection attempt `attempt` (0 = the first retry). Pure: the random
 * source is passed in, and the caller arms the delay on the injected clock.
 */
export function cloudReconnectDelay(attempt: number, random: () => number = Math.random): number {
  return backoffDelay(attempt, CLOUD_BACKOFF, random);
}
