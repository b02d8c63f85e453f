import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { BatchStatement } from "../platform/index.ts";
import {
  createWriteSql,
  type DevicePatch,
  type PendingEvent,
  type PendingState,
  type SqlDialect,
  toStatements,
  toWriteUnits,
  type WriteUnit,
} from "./device-writes.ts";
import { storageTrouble } from "./storage-trouble.ts";

/** Whether the store can take writes; `error` says why not (reported in /api/health). */
export interface StorageStatus {
  ok: boolean;
  error?: string;
}

export interface BatchedWriterDeps {
  /** One transaction; SQLite runs it synchronously, PostgreSQL returns a promise. */
  runBatch(statements: BatchStatement[]): void | Promise<void>;
  /** The dialect the statements are compiled for (default SQLite). */
  dialect?: SqlDialect;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** Flush early once this many events wait, so memory stays bounded under a flood. */
  maxPendingEvents?: number;
  /** While storage is down, the oldest events beyond this many are dropped (and counted). */
  maxHeldEvents?: number;
  /** The same bound in characters of event data: a device message may carry 64 KiB. */
  maxHeldChars?: number;
}

/**
 * The write path made for an SD card: the latest state and device fields per device, and new
 * events, are written together in one transaction at most every `intervalMs`. A kill -9 loses
 * at most that window; WAL keeps the file consistent; stop() flushes everything. Statements are
 * prepared once per batch (not built by kysely per row), so a flush blocks the loop for
 * milliseconds, not tens of them.
 *
 * It cannot jam (issue 8): a batch the database refuses is retried row by row, and only the rows
 * still refused (e.g. state of a device deleted meanwhile) are set aside, logged and counted. A
 * full disk or an I/O error is no bad row: everything stays pending and `status()` says so until
 * a write lands. Memory stays bounded meanwhile: one state and one patch per device, and at most
 * `maxHeldEvents` events and `maxHeldChars` of their data, the oldest dropped (and counted) first.
 */
export function createBatchedWriter(deps: BatchedWriterDeps) {
  const { clock, logger } = deps;
  const intervalMs = deps.intervalMs ?? 1000;
  const maxPendingEvents = deps.maxPendingEvents ?? 2000;
  const maxHeldEvents = deps.maxHeldEvents ?? maxPendingEvents * 5;
  const maxHeldChars = deps.maxHeldChars ?? 16 * 1024 * 1024;
  const writeSql = createWriteSql(deps.dialect ?? "sqlite");
  let states = new Map<string, PendingState>();
  let patches = new Map<string, DevicePatch>();
  let events: PendingEvent[] = [];
  let eventChars = 0;
  let timer: TimerHandle | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let status: StorageStatus = { ok: true };
  const failures = { rejected: 0, dropped: 0 };
  // Callers waiting for what is pending now to be committed (a deferred MQTT PUBACK).
  let waiters: (() => void)[] = [];

  function setEvents(list: PendingEvent[]) {
    events = list;
    eventChars = list.reduce((n, e) => n + e.data.length, 0);
  }

  /** Drops the oldest events over the bounds once they are exceeded by `slack` (a factor). */
  function capEvents(slack: number) {
    if (events.length <= maxHeldEvents * slack && eventChars <= maxHeldChars * slack) return;
    let dropped = Math.max(0, events.length - maxHeldEvents);
    let chars = eventChars;
    for (let i = 0; i < dropped; i++) chars -= events[i]!.data.length;
    while (chars > maxHeldChars && dropped < events.length) chars -= events[dropped++]!.data.length;
    events = events.slice(dropped);
    eventChars = chars;
    failures.dropped += dropped;
    logger.error("storage is down and the event buffer is full; dropped the oldest events", { dropped });
  }

  /** Puts unwritten units back under anything newer, so the next flush writes them. */
  function putBack(units: WriteUnit[]) {
    const olderEvents: PendingEvent[] = [];
    for (const u of units) {
      if (u.kind === "patch") patches.set(u.deviceId, { ...u.patch, ...patches.get(u.deviceId) });
      else if (u.kind === "state") {
        if (!states.has(u.deviceId)) states.set(u.deviceId, u.value);
      } else olderEvents.push(u.event);
    }
    setEvents([...olderEvents, ...events]);
    capEvents(1);
  }

  function holdBack(units: WriteUnit[], error: string) {
    putBack(units);
    if (status.error !== error) {
      logger.error("storage cannot take writes; keeping them pending", { error, pending: units.length });
    }
    status = { ok: false, error };
  }

  function recovered() {
    if (!status.ok) logger.info("storage takes writes again", { was: status.error });
    status = { ok: true };
  }

  async function write(units: WriteUnit[]) {
    try {
      await deps.runBatch(toStatements(units));
      return recovered();
    } catch (err) {
      const trouble = storageTrouble(err);
      if (trouble) return holdBack(units, trouble);
      logger.warn("a batch was refused; retrying its rows one by one", { err, rows: units.length });
    }
    for (const [i, u] of units.entries()) {
      try {
        await deps.runBatch([{ sql: u.sql, rows: [u.row] }]);
      } catch (err) {
        const trouble = storageTrouble(err);
        if (trouble) return holdBack(units.slice(i), trouble);
        failures.rejected++;
        logger.error("a write was refused and set aside", {
          err,
          kind: u.kind,
          deviceId: u.kind === "event" ? u.event.device_id : u.deviceId,
        });
      }
    }
    recovered();
  }

  function flush(): Promise<void> {
    inFlight = inFlight.then(async () => {
      const due = waiters;
      waiters = [];
      if (states.size === 0 && patches.size === 0 && events.length === 0) {
        // Nothing is held back any more (e.g. its device was deleted), so nothing is at risk.
        if (!status.ok) recovered();
        for (const resolve of due) resolve();
        return;
      }
      const units = toWriteUnits(patches, states, events, writeSql);
      states = new Map();
      patches = new Map();
      setEvents([]);
      await write(units);
      // Held back (storage down): they wait for the flush that lands these rows.
      if (status.ok) for (const resolve of due) resolve();
      else waiters = [...due, ...waiters];
    });
    return inFlight;
  }

  return {
    setState(deviceId: string, state: Record<string, unknown>, at: number) {
      states.set(deviceId, { state: JSON.stringify(state), at });
    },
    patchDevice(deviceId: string, patch: DevicePatch) {
      patches.set(deviceId, { ...patches.get(deviceId), ...patch });
    },
    appendEvent(deviceId: string, kind: string, data: unknown, at: number) {
      const event = { device_id: deviceId, kind, data: JSON.stringify(data ?? null), at };
      events.push(event);
      eventChars += event.data.length;
      // While storage is down the timer retries; an early flush per event would only spin.
      if (status.ok && (events.length >= maxPendingEvents || eventChars >= maxHeldChars / 4)) void flush();
      // Trimmed in steps, not per event, so a flood during an outage costs no copy per event.
      else capEvents(1.1);
    },
    /** Drops everything pending for a device about to be deleted, then waits out a running flush. */
    async forgetDevice(deviceId: string) {
      states.delete(deviceId);
      patches.delete(deviceId);
      setEvents(events.filter((e) => e.device_id !== deviceId));
      await inFlight;
    },
    flush,
    /**
     * Resolves once everything pending now is committed (or set aside as refused): by a later
     * flush, which the caller may ask for. Not while storage is down.
     */
    whenWritten(): Promise<void> {
      return new Promise((resolve) => waiters.push(resolve));
    },
    /** How many callers wait in whenWritten(). */
    get waiting() {
      return waiters.length;
    },
    get pending() {
      return states.size + patches.size + events.length;
    },
    /** Rows given up on: refused by the database, or dropped from a full buffer while it was down. */
    get failures(): { rejected: number; dropped: number } {
      return { ...failures };
    },
    status: (): StorageStatus => ({ ...status }),
    start() {
      timer = clock.setInterval(() => void flush(), intervalMs);
    },
    async stop() {
      clock.clearInterval(timer);
      timer = undefined;
      await flush();
      const pending = states.size + patches.size + events.length;
      if (pending > 0)
        logger.error("stopping with writes storage could not take; they are lost", { ...status, pending });
    },
  };
}

export type BatchedWriter = ReturnType<typeof createBatchedWriter>;
