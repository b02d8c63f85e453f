import type { Updateable } from "kysely";
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { BatchStatement } from "../platform/index.ts";
import type { Database } from "./schema.ts";

export type DevicePatch = Updateable<Database["devices"]>;

interface PendingEvent {
  device_id: string;
  kind: string;
  data: string;
  at: number;
}

export interface BatchedWriterDeps {
  runBatch(statements: BatchStatement[]): void;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** Flush early once this many events wait, so memory stays bounded under a flood. */
  maxPendingEvents?: number;
}

const patchColumns = [
  "name",
  "transport",
  "firmware_version",
  "online",
  "last_seen",
  "heartbeat_sec",
] as const;

/**
 * The write path made for an SD card: the latest state and device fields per device, and new
 * events, are written together in one transaction at most every `intervalMs`. A kill -9 loses
 * at most that window; WAL keeps the file consistent; stop() flushes everything. Statements are
 * prepared once per batch (not built by kysely per row), so a flush blocks the loop for
 * milliseconds, not tens of them.
 */
export function createBatchedWriter(deps: BatchedWriterDeps) {
  const { clock, logger } = deps;
  const intervalMs = deps.intervalMs ?? 1000;
  const maxPendingEvents = deps.maxPendingEvents ?? 2000;
  let states = new Map<string, { state: string; at: number }>();
  let patches = new Map<string, DevicePatch>();
  let events: PendingEvent[] = [];
  let timer: TimerHandle | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let failures = 0;

  function write(s: typeof states, p: typeof patches, e: PendingEvent[]) {
    const statements: BatchStatement[] = [];
    const bySignature = new Map<string, BatchStatement>();
    for (const [id, patch] of p) {
      const columns = patchColumns.filter((c) => patch[c] !== undefined);
      if (columns.length === 0) continue;
      const key = columns.join(",");
      let stmt = bySignature.get(key);
      if (!stmt) {
        stmt = {
          sql: `UPDATE devices SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`,
          rows: [],
        };
        bySignature.set(key, stmt);
        statements.push(stmt);
      }
      stmt.rows.push([...columns.map((c) => patch[c] as string | number | null), id]);
    }
    if (s.size > 0) {
      statements.push({
        sql: "INSERT INTO device_state (device_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        rows: [...s].map(([id, v]) => [id, v.state, v.at]),
      });
    }
    if (e.length > 0) {
      statements.push({
        sql: "INSERT INTO events (device_id, kind, data, at) VALUES (?, ?, ?, ?)",
        rows: e.map((x) => [x.device_id, x.kind, x.data, x.at]),
      });
    }
    deps.runBatch(statements);
  }

  function flush(): Promise<void> {
    inFlight = inFlight.then(async () => {
      if (states.size === 0 && patches.size === 0 && events.length === 0) return;
      const [s, p, e] = [states, patches, events];
      states = new Map();
      patches = new Map();
      events = [];
      try {
        write(s, p, e);
        failures = 0;
      } catch (err) {
        failures++;
        logger.error("writing device data failed; will retry", { err, attempt: failures });
        // Put the batch back under anything newer, so the next flush retries it.
        for (const [k, v] of s) if (!states.has(k)) states.set(k, v);
        for (const [k, v] of p) patches.set(k, { ...v, ...patches.get(k) });
        events = [...e, ...events].slice(-maxPendingEvents * 5);
      }
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
      events.push({ device_id: deviceId, kind, data: JSON.stringify(data ?? null), at });
      if (events.length >= maxPendingEvents) void flush();
    },
    /** Drops everything pending for a device about to be deleted, then waits out a running flush. */
    async forgetDevice(deviceId: string) {
      states.delete(deviceId);
      patches.delete(deviceId);
      events = events.filter((e) => e.device_id !== deviceId);
      await inFlight;
    },
    flush,
    get pending() {
      return states.size + patches.size + events.length;
    },
    start() {
      timer = clock.setInterval(() => void flush(), intervalMs);
    },
    async stop() {
      clock.clearInterval(timer);
      timer = undefined;
      await flush();
    },
  };
}

export type BatchedWriter = ReturnType<typeof createBatchedWriter>;
