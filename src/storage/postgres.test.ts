import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { type PostgresCluster, postgresBinDir, startPostgres } from "../../tests/helpers/postgres.ts";
import { ConfigError, loadConfig } from "../config/index.ts";
import { createManualClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { createBatchedWriter } from "./batched-writer.ts";
import { openDatabase, type StationDatabase } from "./open-database.ts";
import type { Database } from "./schema.ts";

/** Without PostgreSQL installed (.ci/run installs it) these tests skip, saying so. */
const pgTest = postgresBinDir() ? test : test.skip;
let cluster: PostgresCluster;
const dirs: string[] = [];

beforeAll(async () => {
  if (postgresBinDir()) cluster = await startPostgres();
}, 60_000);
afterAll(() => {
  cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openBoth(): Promise<{ lite: StationDatabase; pg: StationDatabase }> {
  const dir = mkdtempSync(join(tmpdir(), "og-pg-"));
  dirs.push(dir);
  const platform = createBunPlatform();
  const lite = await openDatabase(platform, dir);
  const pg = await openDatabase(platform, dir, { databaseUrl: await cluster.createDatabase("mig") });
  return { lite, pg };
}

/**
 * Tables and their columns (name, `?` when nullable), kysely's own migration tables left out.
 * SQLite lets a non-integer PRIMARY KEY hold NULL (a documented quirk), so `?` is dropped where
 * PostgreSQL says NOT NULL for a column SQLite calls nullable only for that reason.
 */
async function shape(db: Kysely<Database>) {
  const tables = await db.introspection.getTables();
  return Object.fromEntries(
    tables
      .filter((t) => !t.name.startsWith("kysely_"))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => [t.name, t.columns.map((c) => `${c.name}${c.isNullable ? "?" : ""}`).sort()]),
  );
}

pgTest(
  "the same migrations give the same tables and columns on SQLite and PostgreSQL",
  async () => {
    const { lite, pg } = await openBoth();
    try {
      const liteShape = await shape(lite.db);
      const pgShape = await shape(pg.db);
      expect(Object.keys(liteShape).length).toBeGreaterThan(10);
      const names = (s: Record<string, string[]>) =>
        Object.fromEntries(Object.entries(s).map(([t, cols]) => [t, cols.map((c) => c.replace("?", ""))]));
      expect(names(pgShape)).toEqual(names(liteShape));
      // Nullability: the same, but for SQLite's nullable text primary keys.
      const pgNullable = Object.entries(pgShape).flatMap(([t, cols]) =>
        cols.filter((c) => c.endsWith("?")).map((c) => `${t}.${c}`),
      );
      const liteNullable = Object.entries(liteShape).flatMap(([t, cols]) =>
        cols.filter((c) => c.endsWith("?")).map((c) => `${t}.${c}`),
      );
      expect(liteNullable.filter((c) => !pgNullable.includes(c)).sort()).toEqual(
        [
          "automations.id?",
          "automation_runs.id?",
          "cloud_config.id?",
          "device_state.device_id?",
          "devices.id?",
          "driver_devices.device_id?",
          "drivers.driver_key?",
          "events.id?",
          "ha_discovery.topic?",
          "integrations.name?",
          "sessions.id?",
          "station_meta.key?",
          "users.id?",
        ].sort(),
      );
      expect(pgNullable.filter((c) => !liteNullable.includes(c))).toEqual([]);
      const migrated = (db: Kysely<Database>) =>
        db.introspection.getTables({ withInternalKyselyTables: true }).then((t) => t.length);
      expect(await migrated(pg.db)).toBe(await migrated(lite.db));
    } finally {
      await lite.close();
      await pg.close();
    }
  },
  60_000,
);

pgTest(
  "on PostgreSQL the writer's batch lands, epoch ms come back as numbers, and the state upsert replaces",
  async () => {
    const { lite, pg } = await openBoth();
    await lite.close();
    try {
      const at = 1_764_000_000_123;
      await pg.db
        .insertInto("devices")
        .values({ id: "d1", name: "Lamp", type: "light", transport: "mqtt", created_at: at })
        .execute();
      const writer = createBatchedWriter({
        runBatch: pg.runBatch,
        dialect: pg.dialect,
        clock: createManualClock(at),
        logger: createMemoryLogger(),
      });
      writer.setState("d1", { on: true }, at);
      writer.patchDevice("d1", { online: 1, last_seen: at });
      writer.appendEvent("d1", "button", { n: 1 }, at);
      writer.appendEvent("d1", "button", { n: 2 }, at + 1);
      await writer.flush();
      writer.setState("d1", { on: false }, at + 2);
      await writer.flush();
      expect(writer.status()).toEqual({ ok: true });
      expect(writer.failures).toEqual({ rejected: 0, dropped: 0 });
      const state = await pg.db.selectFrom("device_state").selectAll().execute();
      expect(state).toEqual([{ device_id: "d1", state: '{"on":false}', updated_at: at + 2 }]);
      const device = await pg.db
        .selectFrom("devices")
        .select(["online", "last_seen"])
        .executeTakeFirstOrThrow();
      expect(device).toEqual({ online: 1, last_seen: at });
      const events = await pg.db.selectFrom("events").select(["id", "data", "at"]).orderBy("id").execute();
      expect(events).toEqual([
        { id: 1, data: '{"n":1}', at },
        { id: 2, data: '{"n":2}', at: at + 1 },
      ]);
      // A row PostgreSQL refuses (no such device) is set aside alone; the rest of the batch lands.
      writer.appendEvent("ghost", "button", {}, at);
      writer.appendEvent("d1", "button", { n: 3 }, at + 3);
      await writer.flush();
      expect(writer.failures.rejected).toBe(1);
      expect(await pg.db.selectFrom("events").select("id").execute()).toHaveLength(3);
    } finally {
      await pg.close();
    }
  },
  60_000,
);

pgTest(
  "a bad PostgreSQL password is a clear error without the password",
  async () => {
    const url = cluster.url().replace("opengenie-test", "wrong-secret");
    const dir = mkdtempSync(join(tmpdir(), "og-pg-"));
    dirs.push(dir);
    const err = await openDatabase(createBunPlatform(), dir, { databaseUrl: url }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("password authentication failed");
    expect((err as Error).message).toContain("postgres://postgres:***@127.0.0.1");
    expect((err as Error).message).not.toContain("wrong-secret");
  },
  60_000,
);

test("any other database URL scheme is a config error naming the accepted forms, with the password redacted", () => {
  const dir = mkdtempSync(join(tmpdir(), "og-pg-"));
  dirs.push(dir);
  for (const url of ["mysql://u:topsecret@h/db", "sqlite:///x.db", "postgres:/no-host"]) {
    const load = () => loadConfig({ flags: { "data-dir": dir }, env: { OPENGENIE_DATABASE_URL: url } });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow("must be a postgres:// or postgresql:// URL");
    try {
      load();
    } catch (err) {
      expect((err as Error).message).toContain("OPENGENIE_DATABASE_URL");
      expect((err as Error).message).not.toContain("topsecret");
    }
  }
  const ok = loadConfig({
    flags: { "data-dir": dir, "database-url": "postgresql://u:p@h:5432/db" },
    env: {},
  });
  expect(ok.databaseUrl).toBe("postgresql://u:p@h:5432/db");
  expect(ok.databasePoolMax).toBe(10);
});
