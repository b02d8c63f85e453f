import type { Clock, TimerHandle } from "./clock.ts";

export interface IdleCollectorDeps {
  clock: Clock;
  /** The runtime's call that gives memory back (`Platform.releaseMemory`); without it this does nothing. */
  collect?: (() => void) | undefined;
  /** Traffic since the last collection that makes one worth asking for. */
  thresholdBytes?: number;
  /** How long traffic must stay below `quietBytes` before the collection runs. */
  quietMs?: number;
  quietBytes?: number;
}

/**
 * Gives memory back after a burst (issue 17, docs/performance.md). The JavaScript engine
 * collects when the program allocates, so a station that handled tens of MB of device messages,
 * or a thousand API requests, and then went quiet kept that garbage, the buffers only it
 * referenced and the allocator's free pages resident for as long as it stayed quiet: 35–51 MB
 * ten seconds after `bench/burst.ts` in most runs. Once `thresholdBytes` of work have been
 * noted since the last release (`note`, or `afterQuiet` for a start), and then traffic stays
 * below `quietBytes` for `quietMs`, it asks the runtime once. Under steady traffic the engine
 * collects by itself; this never runs more than once per `thresholdBytes` noted.
 */
export function createIdleCollector(deps: IdleCollectorDeps) {
  const { clock, collect } = deps;
  const thresholdBytes = deps.thresholdBytes ?? 16 * 1024 * 1024;
  const quietMs = deps.quietMs ?? 2000;
  const quietBytes = deps.quietBytes ?? 1024 * 1024;
  let sinceCollection = 0;
  let inWindow = 0;
  let timer: TimerHandle | undefined;
  let collections = 0;
  let stopped = false;
  /** What `afterQuiet` asked to run once that quiet window has come. */
  let onQuiet: (() => void)[] = [];

  function check() {
    timer = undefined;
    if (inWindow >= quietBytes) {
      inWindow = 0;
      timer = clock.setTimeout(check, quietMs); // still busy: look again after another window
      return;
    }
    sinceCollection = 0;
    inWindow = 0;
    collections++;
    const then = onQuiet;
    onQuiet = [];
    for (const fn of then) fn();
    collect?.();
  }

  return {
    /** Bytes of traffic just handled (a device message's, or a request's weight). */
    note(bytes: number) {
      if (!collect || stopped) return;
      sinceCollection += bytes;
      inWindow += bytes;
      if (sinceCollection >= thresholdBytes && !timer) {
        inWindow = 0;
        timer = clock.setTimeout(check, quietMs);
      }
    },
    /**
     * A release is worth it once the next quiet window has passed, whatever was noted: after
     * start, whose garbage and run-once code nothing else would give back while idle. `then`
     * runs once, just before that release (at once where the runtime has no release).
     */
    afterQuiet(then?: () => void) {
      if (stopped) return;
      if (!collect) {
        then?.();
        return;
      }
      if (then) onQuiet.push(then);
      sinceCollection = Math.max(sinceCollection, thresholdBytes);
      if (!timer) {
        inWindow = 0;
        timer = clock.setTimeout(check, quietMs);
      }
    },
    /** Collections asked for so far. */
    get collections() {
      return collections;
    },
    stop() {
      stopped = true;
      onQuiet = [];
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
