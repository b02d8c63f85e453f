/** Injected time source: heartbeats, backoff and offline detection are tested without sleeping. */
export type TimerHandle = { readonly id: unknown };

/** setTimeout's limit (2^31 - 1 ms, about 24.8 days): longer delays fire at once in JS runtimes. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    // Delays past the limit (a 30-day token's expiry) are relayed in steps, not fired early.
    setTimeout: (fn, ms) => {
      const handle: { id: ReturnType<typeof setTimeout> } = { id: undefined as never };
      const arm = (left: number) => {
        handle.id = setTimeout(
          () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()),
          Math.min(left, MAX_TIMER_MS),
        );
      };
      arm(Math.max(0, ms));
      return handle;
    },
    clearTimeout: (h) => {
      if (h) clearTimeout(h.id as ReturnType<typeof setTimeout>);
    },
    setInterval: (fn, ms) => ({ id: setInterval(fn, ms) }),
    clearInterval: (h) => {
      if (h) clearInterval(h.id as ReturnType<typeof setInterval>);
    },
  };
}

/** A manual clock for tests: time moves only when `advance` is called. */
export function createManualClock(
  start = 1_700_000_000_000,
): Clock & { advance(ms: number): void; jump(ms: number): void } {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void; every?: number }>();
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return { id };
    },
    setInterval: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn, every: Math.max(1, ms) });
      return { id };
    },
    clearTimeout: (h: TimerHandle | undefined) => {
      if (h) timers.delete(h.id as number);
    },
    clearInterval: (h: TimerHandle | undefined) => {
      if (h) timers.delete(h.id as number);
    },
    advance(ms: number) {
      const target = now + ms;
      for (;;) {
        let nextKey: number | undefined;
        let nextAt = Number.POSITIVE_INFINITY;
        for (const [key, t] of timers) {
          if (t.at <= target && t.at < nextAt) {
            nextAt = t.at;
            nextKey = key;
          }
        }
        if (nextKey === undefined) break;
        const timer = timers.get(nextKey)!;
        now = timer.at;
        if (timer.every) timer.at += timer.every;
        else timers.delete(nextKey);
        timer.fn();
      }
      now = target;
    },
    /**
     * The wall clock is set (an NTP correction, an admin), forwards or back: `now` moves at once
     * while pending timers keep their remaining delay, as runtime timers (monotonic) do.
     */
    jump(ms: number) {
      now += ms;
      for (const t of timers.values()) t.at += ms;
    },
  };
  return clock;
}
