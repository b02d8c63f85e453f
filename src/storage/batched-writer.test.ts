import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { createManualClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { type BatchedWriterDeps, createBatchedWriter } from "./batched-writer.ts";
import { openDatabase, type StationDatabase } from "./open-database.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A real database file in a temp dir with one device, and a writer on it. */
async function setup(
  limits: Pick<BatchedWriterDeps, "maxPendingEvents" | "maxHeldEvents" | "maxHeldChars"> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "opengenie-writer-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const database: StationDatabase = await openDatabase(createBunPlatform(), dir);
  cleanups.push(() => database.close());
  await database.db
    .insertInto("devices")
    .values({ id: "dev_a", name: "A", type: "light", transport: "mqtt", created_at: 1 })
    .execute();
  const logger = createMemoryLogger("debug");
  const writer = createBatchedWriter({
    runBatch: database.runBatch,
    clock: createManualClock(),
    logger,
    ...limits,
  });
  const pragma = (text: string) => sql.raw(`PRAGMA ${text}`).execute(database.db);
  const eventCount = async () =>
    (
      await database.db
        .selectFrom("events")
        .select((e) => e.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n;
  return { db: database.db, writer, logger, pragma, eventCount };
}

test("a row the database refuses is set aside and counted; the rest of its batch and later batches land", async () => {
  const { db, writer, logger } = await setup();
  // State and an event of a device that no longer exists: a foreign-key failure.
  writer.setState("dev_gone", { power: "on" }, 10);
  writer.appendEvent("dev_gone", "state", { power: "on" }, 10);
  writer.setState("dev_a", { power: "on" }, 11);
  writer.appendEvent("dev_a", "state", { power: "on" }, 11);
  writer.patchDevice("dev_a", { online: 1, last_seen: 11 });
  await writer.flush();

  expect(writer.failures).toEqual({ rejected: 2, dropped: 0 });
  expect(writer.pending).toBe(0);
  expect(writer.status()).toEqual({ ok: true });
  expect(logger.lines.filter((l) => l.includes("set aside"))).toHaveLength(2);
  const state = await db.selectFrom("device_state").selectAll().execute();
  expect(state).toEqual([{ device_id: "dev_a", state: '{"power":"on"}', updated_at: 11 }]);
  expect(await db.selectFrom("events").select("device_id").execute()).toEqual([{ device_id: "dev_a" }]);
  expect(await db.selectFrom("devices").select(["online", "last_seen"]).executeTakeFirst()).toEqual({
    online: 1,
    last_seen: 11,
  });

  writer.setState("dev_a", { power: "off" }, 12);
  await writer.flush();
  expect((await db.selectFrom("device_state").select("state").executeTakeFirst())?.state).toBe(
    '{"power":"off"}',
  );
  expect(writer.failures.rejected).toBe(2);
});

test("a full database keeps every write pending and says so until there is room again", async () => {
  const { db, writer, pragma, eventCount } = await setup();
  // Cap the file at its current size: the next page SQLite needs fails with SQLITE_FULL,
  // exactly as a full disk does.
  await pragma("max_page_count = 1");
  for (let i = 0; i < 200; i++) writer.appendEvent("dev_a", "state", { seq: i, pad: "x".repeat(1000) }, i);
  writer.setState("dev_a", { seq: 199 }, 199);
  await writer.flush();

  expect(writer.status()).toMatchObject({ ok: false, error: expect.stringMatching(/^SQLITE_FULL: /) });
  expect(writer.pending).toBe(201);
  expect(writer.failures).toEqual({ rejected: 0, dropped: 0 });
  // Retries while still full change nothing and lose nothing.
  writer.appendEvent("dev_a", "state", { seq: 200 }, 200);
  await writer.flush();
  expect(writer.pending).toBe(202);
  expect(await eventCount()).toBe(0);

  await pragma("max_page_count = 1073741823");
  await writer.flush();
  expect(writer.status()).toEqual({ ok: true });
  expect(writer.pending).toBe(0);
  expect(await eventCount()).toBe(201);
  const seqs = (await db.selectFrom("events").select("data").orderBy("id").execute()).map(
    (r) => (JSON.parse(r.data) as { seq: number }).seq,
  );
  expect(seqs).toEqual(Array.from({ length: 201 }, (_, i) => i));
  expect((await db.selectFrom("device_state").select("state").executeTakeFirst())?.state).toBe('{"seq":199}');
});

test("a read-only database is storage trouble too, not a bad row", async () => {
  const { writer, pragma, eventCount } = await setup();
  await pragma("query_only = ON");
  writer.appendEvent("dev_a", "status", { online: true }, 1);
  await writer.flush();
  expect(writer.status()).toMatchObject({ ok: false, error: expect.stringMatching(/^SQLITE_READONLY/) });
  expect(writer.failures.rejected).toBe(0);
  await pragma("query_only = OFF");
  await writer.flush();
  expect(writer.status()).toEqual({ ok: true });
  expect(await eventCount()).toBe(1);
});

test("while storage is down, held events stay bounded: the oldest are dropped and counted", async () => {
  const { db, writer, pragma } = await setup({ maxPendingEvents: 10, maxHeldEvents: 50 });
  await pragma("query_only = ON");
  writer.appendEvent("dev_a", "state", { seq: 0 }, 0);
  await writer.flush();
  expect(writer.status().ok).toBe(false);
  for (let i = 1; i < 500; i++) writer.appendEvent("dev_a", "state", { seq: i }, i);
  await writer.flush();
  expect(writer.pending).toBeLessThanOrEqual(55);

  await pragma("query_only = OFF");
  await writer.flush();
  const seqs = (await db.selectFrom("events").select("data").orderBy("id").execute()).map(
    (r) => (JSON.parse(r.data) as { seq: number }).seq,
  );
  expect(seqs.at(-1)).toBe(499);
  expect(writer.failures.dropped).toBe(500 - seqs.length);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 500 - seqs.length + i));
});

test("the bound holds in data size too: large events are dropped oldest first while storage is down", async () => {
  const { db, writer, pragma } = await setup({ maxHeldChars: 100_000 });
  await pragma("query_only = ON");
  writer.appendEvent("dev_a", "state", { seq: 0 }, 0);
  await writer.flush();
  const pad = "x".repeat(10_000);
  for (let i = 1; i <= 100; i++) writer.appendEvent("dev_a", "state", { seq: i, pad }, i);
  await writer.flush();
  expect(writer.pending).toBeLessThanOrEqual(11);

  await pragma("query_only = OFF");
  await writer.flush();
  const seqs = (await db.selectFrom("events").select("data").orderBy("id").execute()).map(
    (r) => (JSON.parse(r.data) as { seq: number }).seq,
  );
  expect(seqs.at(-1)).toBe(100);
  expect(writer.failures.dropped).toBe(101 - seqs.length);
});

test("a patch writes every column it carries (none is silently dropped)", async () => {
  const { db, writer } = await setup();
  writer.patchDevice("dev_a", { type: "switch", driver_key: "hub-1", firmware_version: "2.0" });
  await writer.flush();
  expect(
    await db.selectFrom("devices").select(["type", "driver_key", "firmware_version"]).executeTakeFirst(),
  ).toEqual({ type: "switch", driver_key: "hub-1", firmware_version: "2.0" });
});
