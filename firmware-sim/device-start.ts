/**
 * The promise start() hands out: one per start attempt, settled once by the first `ok`
 * handshake ack, a failure, stop() or the start timeout, whichever comes first.
 */
export interface StartGate {
  /** A start() is waiting to be settled. */
  readonly pending: boolean;
  /** The attempt under way, or a new one that `begin` kicks off (synchronously, like the original). */
  open(begin: () => void): Promise<void>;
  /** Resolves (no error) or rejects the waiting start(); nothing when none waits. */
  settle(error?: Error): void;
  /** After a shutdown the next start() is a new attempt. */
  forget(): void;
}

export function createStartGate(onSettled: () => void): StartGate {
  let starting: Promise<void> | undefined;
  let waiting: { resolve: () => void; reject: (e: Error) => void } | undefined;
  return {
    get pending() {
      return waiting !== undefined;
    },
    open(begin) {
      if (starting) return starting;
      starting = new Promise<void>((resolve, reject) => {
        waiting = { resolve, reject };
        begin();
      });
      return starting;
    },
    settle(error) {
      const pending = waiting;
      waiting = undefined;
      onSettled();
      if (error) pending?.reject(error);
      else pending?.resolve();
    },
    forget() {
      starting = undefined;
    },
  };
}
