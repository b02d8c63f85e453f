/**
 * A token bucket: `capacity` burst, refilled continuously at `perSecond`. Pure apart from the
 * time it is given; a clock that steps back refills nothing rather than taking tokens away.
 */
export interface TokenBucket {
  /** Takes one token; returns 0 on success or the milliseconds until one is available. */
  take(now: number): number;
  /** Whether the bucket has refilled completely (its owner may then forget it). */
  full(now: number): boolean;
}

export function createTokenBucket(capacity: number, perSecond: number, now: number): TokenBucket {
  let tokens = capacity;
  let last = now;
  const refill = (at: number) => {
    tokens = Math.min(capacity, tokens + (Math.max(0, at - last) / 1000) * perSecond);
    last = Math.max(last, at);
  };
  return {
    take(at) {
      refill(at);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - tokens) / perSecond) * 1000);
    },
    full(at) {
      refill(at);
      return tokens >= capacity;
    },
  };
}
