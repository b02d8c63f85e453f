/** A token bucket: `capacity` burst, refilled at `perSecond`. Pure apart from the time it is given. */
export interface TokenBucket {
  /** Takes one token; returns 0 on success or the milliseconds until one is available. */
  take(now: number): number;
}

export function createTokenBucket(capacity: number, perSecond: number, now: number): TokenBucket {
  let tokens = capacity;
  let last = now;
  return {
    take(at) {
      tokens = Math.min(capacity, tokens + ((at - last) / 1000) * perSecond);
      last = at;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - tokens) / perSecond) * 1000);
    },
  };
}
