/** Capped exponential backoff with ±jitter. Pure: the random source is passed in. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  jitter: number; // 0.2 = ±20 %
}

export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt));
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
