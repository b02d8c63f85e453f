import type { Logger } from "../logging/index.ts";

/** What the lifecycle needs of a part of the station (a station module). */
export interface Startable<C> {
  readonly name: string;
  /** When true, a failure to start stops the whole station (e.g. the embedded broker's port is busy). */
  readonly critical?: boolean;
  start?(context: C): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/**
 * Starts parts in order and stops the started ones in reverse (STYLE.md). A part that fails to
 * start is logged and skipped, unless critical: then the error is rethrown and the caller
 * stops what did start.
 */
export function createLifecycle<C>(logger: Logger) {
  const started: Startable<C>[] = [];
  return {
    async startAll(parts: readonly Startable<C>[], context: C) {
      for (const part of parts) {
        try {
          await part.start?.(context);
          started.push(part);
        } catch (err) {
          if (part.critical) throw err;
          logger.error(`${part.name} failed to start; the station runs without it`, { err });
        }
      }
    },
    async stopAll() {
      for (const part of started.splice(0).reverse()) {
        try {
          await part.stop?.();
        } catch (err) {
          logger.error(`${part.name} failed to stop cleanly`, { err });
        }
      }
    },
  };
}

/**
 * Resolves when `work` does or after `ms`, whichever is first (a stop must not hang). The timer
 * ends with `work`: a stop that finished in time neither reports itself late afterwards nor keeps
 * the process alive (Deno's timers have no `unref`).
 */
export function withDeadline(work: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onLate();
      resolve();
    }, ms);
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
