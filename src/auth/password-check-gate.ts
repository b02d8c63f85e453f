import { StationError } from "../core/index.ts";

export interface PasswordCheckGateOptions {
  /** Checks running at once; argon2id is memory- and CPU-hard, and a Pi has 4 cores. */
  concurrency: number;
  /** Checks allowed to wait; past that a caller gets RATE_LIMITED at once. */
  maxQueued: number;
  /** What a refused caller is told to wait. */
  retryAfterMs: number;
}

/**
 * A global bound on concurrent password checks (CONTRACT.md section 2; issue 9, finding 6):
 * many addresses guessing at once queue briefly and are then refused, so the hashing pool
 * never holds hundreds of checks and a legitimate sign-in stays fast.
 */
export function createPasswordCheckGate(options: PasswordCheckGateOptions) {
  let running = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return {
    async run<T>(check: () => Promise<T>): Promise<T> {
      if (running >= options.concurrency) {
        if (queue.length >= options.maxQueued) {
          throw new StationError(
            "RATE_LIMITED",
            "the station is busy checking passwords; try again shortly",
            {
              retryAfterMs: options.retryAfterMs,
            },
          );
        }
        await new Promise<void>((resolve) => queue.push(resolve));
      }
      running++;
      try {
        return await check();
      } finally {
        release();
      }
    },
    get pending() {
      return running + queue.length;
    },
  };
}

export type PasswordCheckGate = ReturnType<typeof createPasswordCheckGate>;
