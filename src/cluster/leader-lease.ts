/**
 * One instance of a station runs what must happen once per station (the presence sweep, time
 * triggers, event pruning): the holder of a lease kept in the shared database, a `station_meta`
 * row `{holder, expiresAt}` renewed every few seconds and taken over once it has expired. Every
 * change is a compare-and-set on the row's previous value, so two instances never both win.
 */
import type { Kysely } from "kysely";
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Database } from "../storage/index.ts";

export const LEADER_KEY = "cluster.leader";

export interface LeaderLeaseDeps {
  db: Kysely<Database>;
  instanceId: string;
  clock: Clock;
  logger: Logger;
  /** How long a lease lasts unless renewed. Default 10 s. */
  ttlMs?: number;
  /** How often the holder renews (and the others look). Default 3 s. */
  renewMs?: number;
}

interface Lease {
  holder: string;
  expiresAt: number;
}

function parseLease(value: string): Lease | undefined {
  try {
    const v = JSON.parse(value) as Partial<Lease>;
    return typeof v.holder === "string" && typeof v.expiresAt === "number"
      ? { holder: v.holder, expiresAt: v.expiresAt }
      : undefined;
  } catch {
    return undefined;
  }
}

export function createLeaderLease(deps: LeaderLeaseDeps) {
  const { db, instanceId, clock } = deps;
  const ttlMs = deps.ttlMs ?? 10_000;
  const renewMs = deps.renewMs ?? 3_000;
  let heldUntil = 0;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let wasLeader = false;
  let written: string | undefined;

  async function attempt(): Promise<void> {
    const now = clock.now();
    const next = JSON.stringify({ holder: instanceId, expiresAt: now + ttlMs });
    const row = await db
      .selectFrom("station_meta")
      .select("value")
      .where("key", "=", LEADER_KEY)
      .executeTakeFirst();
    let won = false;
    if (!row) {
      const r = await db
        .insertInto("station_meta")
        .values({ key: LEADER_KEY, value: next })
        .onConflict((oc) => oc.column("key").doNothing())
        .executeTakeFirst();
      won = Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    } else {
      const current = parseLease(row.value);
      if (!current || current.holder === instanceId || current.expiresAt < now) {
        const r = await db
          .updateTable("station_meta")
          .set({ value: next })
          .where("key", "=", LEADER_KEY)
          .where("value", "=", row.value)
          .executeTakeFirst();
        won = Number(r.numUpdatedRows) > 0;
      }
    }
    // A renewal that failed keeps the lease only until it would have expired anyway.
    if (won) {
      heldUntil = now + ttlMs;
      written = next;
    }
    const leader = clock.now() < heldUntil;
    if (leader !== wasLeader)
      deps.logger.info(
        leader ? "this instance is now the station's leader" : "this instance is no longer leader",
        {
          instanceId,
        },
      );
    wasLeader = leader;
  }

  function tick() {
    running ??= attempt()
      .catch((err) => deps.logger.warn("leader lease check failed", { error: (err as Error).message }))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    /** True while this instance holds an unexpired lease (minus one renewal of margin). */
    get leader(): boolean {
      return clock.now() < heldUntil - renewMs / 2;
    },
    async start() {
      await tick();
      timer = clock.setInterval(() => void tick(), renewMs);
    },
    async stop() {
      clock.clearInterval(timer);
      timer = undefined;
      await running;
      if (written && heldUntil > clock.now()) {
        // Hand over at once rather than make the others wait out the lease.
        await db
          .deleteFrom("station_meta")
          .where("key", "=", LEADER_KEY)
          .where("value", "=", written)
          .execute()
          .catch(() => undefined);
      }
      heldUntil = 0;
    },
  };
}

export type LeaderLease = ReturnType<typeof createLeaderLease>;
