/**
 * What the Home Assistant bridge still has to publish, coalesced: at most one entry per device
 * and one "everything", whatever the rate of state changes, so memory stays bounded while the
 * broker is slow or away. One drain runs at a time, in order (a removal never overtakes the
 * config it clears), and only while the connection is up; a reconnect publishes everything.
 */
import type { Logger } from "../logging/index.ts";

export interface PendingWork {
  all(): Promise<void>;
  device(deviceId: string): Promise<void>;
  removed(deviceId: string): Promise<void>;
  station(): Promise<void>;
}

export function createPending(work: PendingWork, connected: () => boolean, logger: Logger) {
  let all = false;
  let station = false;
  /** deviceId → what to do; Map keeps arrival order, and a later change replaces an earlier one. */
  const devices = new Map<string, "publish" | "remove">();
  let draining: Promise<void> | undefined;

  const pending = () => all || station || devices.size > 0;

  async function step(): Promise<void> {
    if (all) {
      // Removals queued before still clear their configs first; publishes are covered by `all`.
      for (const [id, what] of [...devices]) if (what === "publish") devices.delete(id);
      if (devices.size === 0) {
        all = false;
        station = false;
        return work.all();
      }
    }
    const next = devices.entries().next();
    if (!next.done) {
      const [id, what] = next.value;
      devices.delete(id);
      return what === "remove" ? work.removed(id) : work.device(id);
    }
    station = false;
    return work.station();
  }

  async function drain() {
    while (connected() && pending()) {
      try {
        await step();
      } catch (err) {
        logger.warn("home assistant publish failed", { error: (err as Error).message });
      }
    }
  }

  function kick() {
    draining ??= drain().finally(() => {
      draining = undefined;
      if (connected() && pending()) kick();
    });
    return draining;
  }

  return {
    all() {
      all = true;
      return kick();
    },
    device(deviceId: string) {
      if (devices.get(deviceId) !== "remove") devices.set(deviceId, "publish");
      station = true;
      return kick();
    },
    removed(deviceId: string) {
      devices.delete(deviceId);
      devices.set(deviceId, "remove");
      station = true;
      return kick();
    },
    /** Settles when nothing is being published (now). */
    idle: () => draining ?? Promise.resolve(),
    get size() {
      return devices.size;
    },
  };
}
