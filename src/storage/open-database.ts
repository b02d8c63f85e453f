import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Kysely, SqliteDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import type { BatchStatement, Platform } from "../platform/index.ts";
import { isPostgresUrl, redactDatabaseUrl } from "./database-url.ts";
import type { SqlDialect } from "./device-writes.ts";
import { inCodeMigrations, migrationNames } from "./migrations.ts";
import { openPostgres, postgresStartError } from "./open-postgres.ts";
import type { Database } from "./schema.ts";

export interface StationDatabase {
  readonly db: Kysely<Database>;
  /** The SQLite file, or the PostgreSQL URL with its password redacted. */
  readonly path: string;
  readonly dialect: SqlDialect;
  /**
   * The hot write path (batched writer): prepared statements in one transaction, synchronous on
   * SQLite, a promise on PostgreSQL.
   */
  runBatch(statements: BatchStatement[]): void | Promise<void>;
  /** PostgreSQL only: the connection pool's state. */
  poolState?(): { total: number; idle: number; waiting: number; max: number };
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…`: store in PostgreSQL instead of `<data-dir>/opengenie.db`. */
  databaseUrl?: string;
  poolMax?: number;
  /** Errors of idle pooled connections (e.g. the server restarted); the next query reconnects. */
  onPoolError?(err: Error): void;
}

/**
 * True when the database has exactly this version's migrations applied: one query, where the
 * migrator makes its tables, takes its lock and reads them in a transaction (about 3 ms of every
 * start, docs/performance.md). Anything else (a new database, a pending migration, one this
 * version does not know) goes to the migrator, which applies or refuses as before.
 */
async function upToDate(db: Kysely<Database>): Promise<boolean> {
  let applied: string[];
  try {
    applied = (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map(
      (r) => r.name,
    );
  } catch {
    return false; // no migration table yet
  }
  return applied.length === migrationNames.length && migrationNames.every((name) => applied.includes(name));
}

async function migrate(db: Kysely<Database>): Promise<void> {
  if (await upToDate(db)) return;
  const migrator = new Migrator({ db, provider: inCodeMigrations });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
}

async function openPostgresDatabase(url: string, options: DatabaseOptions): Promise<StationDatabase> {
  const store = await openPostgres(
    { url, poolMax: options.poolMax ?? 10 },
    options.onPoolError ?? (() => {}),
  );
  try {
    await migrate(store.db);
  } catch (err) {
    await store.close().catch(() => {});
    throw postgresStartError(url, err);
  }
  return {
    db: store.db,
    path: redactDatabaseUrl(url),
    dialect: "postgres",
    runBatch: store.runBatch,
    poolState: store.poolState,
    close: store.close,
  };
}

export function databasePath(dataDir: string): string {
  return join(dataDir, "opengenie.db");
}

/**
 * Opens (creating if needed) the SQLite file, sets durability pragmas and runs migrations; or,
 * given a `postgres://` URL, the PostgreSQL database (docs/postgres.md).
 */
export async function openDatabase(
  platform: Platform,
  dataDir: string,
  options: DatabaseOptions = {},
): Promise<StationDatabase> {
  if (isPostgresUrl(options.databaseUrl)) return openPostgresDatabase(options.databaseUrl, options);
  const path = databasePath(dataDir);
  const fresh = !existsSync(path);
  const handle = platform.openSqlite(path);
  if (fresh) chmodSync(path, 0o640);
  // WAL survives kill -9 without corruption; synchronous=NORMAL is durable at checkpoints and
  // spares the SD card an fsync per transaction. busy_timeout lets CLI commands share the file.
  // Small pages for a new file: each commit appends every page it touched to the WAL, and the
  // writer's commits touch a few rows each, so 1 KiB pages write a quarter of what 4 KiB pages
  // do (docs/performance.md, "SD-card writes"). Only takes effect before the first table.
  if (fresh) handle.exec("PRAGMA page_size = 1024");
  handle.exec("PRAGMA journal_mode = WAL");
  handle.exec("PRAGMA synchronous = NORMAL");
  handle.exec("PRAGMA foreign_keys = ON");
  handle.exec("PRAGMA busy_timeout = 5000");
  // The platform's handle is kysely's SqliteDatabase (prepare/close) plus our own calls.
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }) });
  await migrate(db);
  return {
    db,
    path,
    dialect: "sqlite",
    runBatch: (statements) => handle.runBatch(statements),
    close: () => db.destroy(),
  };
}
