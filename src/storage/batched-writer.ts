import type { Kysely, Updateable } from "kysely";
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Database } from "./schema.ts";

export type DevicePatch = Updateable<Database["devices"]>;

interface PendingEvent {
  device_id: string;
  kind: string;
  data: string;
  at: number;
}

export interface BatchedWriterDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** Flush early once this many events wait, so memory stays bounded under a flood. */
  maxPendingEvents?: number;
}

const CHUNK = 200;

/**
 * The write path made for an SD card: the latest state and device fields per device, and new
 * events, are written together in one transaction at most every `intervalMs`. A kill -9 loses
 * at most that window; WAL keeps the file consistent; stop() flushes everything.
 */
export function createBatchedWriter(deps: BatchedWriterDeps) {
  const { db, clock, logger } = deps;
  const intervalMs = deps.intervalMs ?? 1000;
  const maxPendingEvents = deps.maxPendingEvents ?? 2000;
  let states = new Map<string, { state: string; at: number }>();
  let patches = new Map<string, DevicePatch>();
  let events: PendingEvent[] = [];
  let timer: TimerHandle | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let failures = 0;

  async function write(s: typeof states, p: typeof patches, e: PendingEvent[]) {
    await db.transaction().execute(async (trx) => {
      for (const [id, patch] of p) await trx.updateTable("devices").set(patch).where("id", "=", id).execute();
      const stateRows = [...s].map(([device_id, v]) => ({ device_id, state: v.state, updated_at: v.at }));
      for (let i = 0; i < stateRows.length; i += CHUNK) {
        await trx
          .insertInto("device_state")
          .values(stateRows.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.column("device_id").doUpdateSet((eb) => ({
              state: eb.ref("excluded.state"),
              updated_at: eb.ref("excluded.updated_at"),
            })),
          )
          .execute();
      }
      for (let i = 0; i < e.length; i += CHUNK)
        await trx
          .insertInto("events")
          .values(e.slice(i, i + CHUNK))
          .execute();
    });
  }

  function flush(): Promise<void> {
    inFlight = inFlight.then(async () => {
      if (states.size === 0 && patches.size === 0 && events.length === 0) return;
      const [s, p, e] = [states, patches, events];
      states = new Map();
      patches = new Map();
      events = [];
      try {
        await write(s, p, e);
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
