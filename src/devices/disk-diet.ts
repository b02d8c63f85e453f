/**
 * What the device core leaves unwritten so a Pi's SD card lasts (issue 17, docs/performance.md
 * "SD-card writes"). Every write that remains is one a restart or a history reader needs:
 * - a state report that changes nothing writes nothing (the stored state is already that);
 * - the state history samples numeric readings: the first change of a window is written at
 *   once, later numeric changes in the same window are merged into one row written when the
 *   window ends, carrying the latest value of every key and the time of the latest report;
 *   a change of anything else (on/off, motion, a mode) is a transition and is written at once,
 *   with what the window held back, within the device's history budget;
 * - `last_seen` is kept current in memory (what the API and presence read) and stored when
 *   presence changes, else at most once per `LAST_SEEN_PERSIST_MS` per device.
 * The latest state itself is still written within the writer's interval, so kill -9 loses at
 * most about a second of it; what a kill -9 can lose beyond that is the history row of an
 * unfinished window.
 */
import type { BatchedWriter } from "../storage/index.ts";

export const STATE_HISTORY_WINDOW_MS = 60_000;
export const LAST_SEEN_PERSIST_MS = 60_000;

/** The keys of `report` whose value differs from `current` (values compared as JSON). */
export function changedKeys(current: Record<string, unknown>, report: Record<string, unknown>) {
  const changed: [string, unknown][] = [];
  for (const [key, value] of Object.entries(report)) {
    const old = Object.hasOwn(current, key) ? current[key] : undefined;
    if (old === value && Object.hasOwn(current, key)) continue;
    if (typeof value === "object" && value !== null && JSON.stringify(old) === JSON.stringify(value))
      continue;
    changed.push([key, value]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays a key.
  return changed.length > 0 ? Object.fromEntries(changed) : undefined;
}

interface HistoryWindow {
  startedAt: number;
  pending?: { data: Record<string, unknown>; at: number };
}

export function createStateHistory(
  writer: Pick<BatchedWriter, "appendEvent">,
  windowMs = STATE_HISTORY_WINDOW_MS,
) {
  const windows = new Map<string, HistoryWindow>();

  function write(deviceId: string, w: HistoryWindow) {
    if (!w.pending) return;
    writer.appendEvent(deviceId, "state", w.pending.data, w.pending.at);
    w.pending = undefined;
  }

  return {
    /**
     * A report's changed keys; `allow` says whether the device is within its history budget.
     * A change of a discrete value (on/off, motion, a mode: anything but a number) is a
     * transition someone looks for in the history, so it is written at once, together with
     * what the window held back; numeric readings are sampled.
     */
    record(deviceId: string, changed: Record<string, unknown>, now: number, allow: () => boolean) {
      const w = windows.get(deviceId);
      if (!w || now - w.startedAt >= windowMs) {
        if (w) write(deviceId, w);
        if (!allow()) {
          windows.delete(deviceId);
          return;
        }
        windows.set(deviceId, { startedAt: now });
        writer.appendEvent(deviceId, "state", changed, now);
        return;
      }
      w.pending = { data: { ...w.pending?.data, ...changed }, at: now };
      if (Object.values(changed).some((v) => typeof v !== "number") && allow()) write(deviceId, w);
    },
    /** Writes the rows of windows that have ended; forgets idle devices. Called every few seconds. */
    flushDue(now: number) {
      for (const [deviceId, w] of windows) {
        if (now - w.startedAt < windowMs) continue;
        write(deviceId, w);
        windows.delete(deviceId);
      }
    },
    /** Writes every pending row (graceful stop). */
    flushAll() {
      for (const [deviceId, w] of windows) write(deviceId, w);
      windows.clear();
    },
    forget(deviceId: string) {
      windows.delete(deviceId);
    },
    get size() {
      return windows.size;
    },
  };
}

/** Whether a device's `last_seen` should be stored now; remembers when it last was. */
export function createLastSeenPersistence(intervalMs = LAST_SEEN_PERSIST_MS) {
  const stored = new Map<string, number>();
  return {
    due(deviceId: string, at: number): boolean {
      const last = stored.get(deviceId);
      if (last !== undefined && at - last < intervalMs && at >= last) return false;
      stored.set(deviceId, at);
      return true;
    },
    /** A write of last_seen happened anyway (a presence change). */
    stored(deviceId: string, at: number) {
      stored.set(deviceId, at);
    },
    forget(deviceId: string) {
      stored.delete(deviceId);
    },
  };
}
