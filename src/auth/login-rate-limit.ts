import type { Clock } from "../core/index.ts";

/**
 * Failed sign-ins, counted per client address AND per username (CONTRACT.md section 2): after
 * `maxFailures` within `windowMs` on either, further attempts wait until the window passes. A
 * success clears only that username's count, so signing in to one account never resets the
 * guesses made at another from the same address (issue 9, finding 3).
 */
export interface LoginRateLimiter {
  /** Milliseconds the caller must wait before trying this username from this address, or 0. */
  retryAfter(address: string, username: string): number;
  /**
   * Counts an attempt as failed before the (slow) password check, so concurrent guesses are
   * limited too; `succeeded()` takes it back and clears the username's failures.
   */
  attempt(address: string, username: string): { succeeded(): void };
}

const MAX_KEYS = 10_000;

export function createLoginRateLimiter(clock: Clock, maxFailures = 5, windowMs = 60_000): LoginRateLimiter {
  const byAddress = new Map<string, number[]>();
  const byUsername = new Map<string, number[]>();
  const recent = (map: Map<string, number[]>, key: string) => {
    const since = clock.now() - windowMs;
    const list = (map.get(key) ?? []).filter((t) => t > since);
    if (list.length) map.set(key, list);
    else map.delete(key);
    return list;
  };
  const wait = (list: number[]) =>
    list.length < maxFailures ? 0 : Math.max(1, list[list.length - maxFailures]! + windowMs - clock.now());
  const record = (map: Map<string, number[]>, key: string, at: number) => {
    const list = recent(map, key);
    list.push(at);
    map.set(key, list);
    // Bound memory under a spray of addresses or made-up usernames.
    if (map.size > MAX_KEYS) map.delete(map.keys().next().value!);
  };
  // Usernames are case-sensitive in the database, but guesses at "Owner" count against "owner" too.
  const userKey = (username: string) => username.toLowerCase();
  return {
    retryAfter(address, username) {
      return Math.max(wait(recent(byAddress, address)), wait(recent(byUsername, userKey(username))));
    },
    attempt(address, username) {
      const at = clock.now();
      record(byAddress, address, at);
      record(byUsername, userKey(username), at);
      return {
        succeeded() {
          const list = byAddress.get(address);
          const index = list?.lastIndexOf(at) ?? -1;
          if (list && index >= 0) list.splice(index, 1);
          byUsername.delete(userKey(username));
        },
      };
    },
  };
}
