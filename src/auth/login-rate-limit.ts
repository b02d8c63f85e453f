import type { Clock } from "../core/index.ts";

/**
 * Failed logins per client address: after `maxFailures` within `windowMs` further attempts
 * are refused until the window passes, which makes online password guessing impractical.
 */
export interface LoginRateLimiter {
  /** Milliseconds the address must wait, or 0 when it may try. */
  retryAfter(address: string): number;
  recordFailure(address: string): void;
  recordSuccess(address: string): void;
}

export function createLoginRateLimiter(clock: Clock, maxFailures = 5, windowMs = 60_000): LoginRateLimiter {
  const failures = new Map<string, number[]>();
  const recent = (address: string) => {
    const since = clock.now() - windowMs;
    const list = (failures.get(address) ?? []).filter((t) => t > since);
    if (list.length) failures.set(address, list);
    else failures.delete(address);
    return list;
  };
  return {
    retryAfter(address) {
      const list = recent(address);
      if (list.length < maxFailures) return 0;
      return Math.max(1, list[list.length - maxFailures]! + windowMs - clock.now());
    },
    recordFailure(address) {
      const list = recent(address);
      list.push(clock.now());
      failures.set(address, list);
      // Bound memory under a spray of addresses.
      if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
    },
    recordSuccess(address) {
      failures.delete(address);
    },
  };
}
