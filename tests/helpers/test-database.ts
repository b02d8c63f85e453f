/**
 * Which database the stations under test use. With OPENGENIE_TEST_DATABASE=postgres
 * (`npm run test:postgres`) every data dir a test station or `opengenie` command uses gets its
 * own database on one PostgreSQL cluster shared by the test process (tests/helpers/postgres.ts),
 * written as `databaseUrl` into the data dir's config.json, so the station and every CLI
 * command on that dir agree without each test passing it.
 */
import { test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createDatabaseAt, type PostgresCluster, startPostgres } from "./postgres.ts";

export const onPostgres = process.env.OPENGENIE_TEST_DATABASE === "postgres";

let shared: Promise<PostgresCluster> | undefined;

/**
 * The cluster: the one `npm run test:postgres` started and owns (OPENGENIE_TEST_POSTGRES_URL,
 * a superuser URL), or else one started here and stopped when the test process exits.
 */
function sharedCluster(): Promise<{ createDatabase(prefix?: string): Promise<string> }> {
  const given = process.env.OPENGENIE_TEST_POSTGRES_URL;
  if (given) return Promise.resolve({ createDatabase: (prefix) => createDatabaseAt(given, prefix) });
  if (!shared) {
    shared = startPostgres();
    void shared.then((cluster) => process.on("exit", () => cluster.stop()));
  }
  return shared;
}

/** Points the data dir at a fresh PostgreSQL database when the suite runs on PostgreSQL. */
export async function useTestDatabase(dataDir: string): Promise<void> {
  if (!onPostgres) return;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "config.json");
  const config = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  if (config.databaseUrl) return;
  config.databaseUrl = await (await sharedCluster()).createDatabase("station");
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Why a test that opens the station's SQLite file itself does not run on PostgreSQL. */
export const READS_SQLITE_FILE = "it reads the station's SQLite file directly";

/** `test`, or on PostgreSQL a skip whose name carries the reason. Never a silent skip. */
export function sqliteOnly(reason: string): typeof test {
  if (!onPostgres) return test;
  const skipped = (name: string, fn: Parameters<typeof test>[1], options?: Parameters<typeof test>[2]) =>
    test.skip(`${name} [skipped on PostgreSQL: ${reason}]`, fn, options);
  return skipped as unknown as typeof test;
}
