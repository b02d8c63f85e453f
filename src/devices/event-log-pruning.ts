import type { Kysely } from "kysely";
import type { Database } from "../storage/index.ts";

/** How long the event log keeps a row, and how many rows it keeps at most. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;
export const MAX_EVENTS = 1_000_000;

/**
 * The event log is a rolling window, so a Pi's SD card never fills with history: rows older
 * than the retention and rows beyond the newest MAX_EVENTS go (queries compiled by kysely for
 * SQLite or PostgreSQL alike).
 */
export async function pruneEventLog(db: Kysely<Database>, now: number): Promise<void> {
  await db
    .deleteFrom("events")
    .where("at", "<", now - EVENT_RETENTION_MS)
    .execute();
  const newest = await db
    .selectFrom("events")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  if (newest?.id != null)
    await db
      .deleteFrom("events")
      .where("id", "<=", Number(newest.id) - MAX_EVENTS)
      .execute();
}
