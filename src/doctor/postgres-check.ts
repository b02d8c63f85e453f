import { sql } from "kysely";
import type { StationConfig } from "../config/index.ts";
import { redactDatabaseUrl } from "../storage/database-url.ts";
import { openPostgres } from "../storage/open-postgres.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

/**
 * `opengenie doctor` under PostgreSQL: connectivity, server version, the newest migration
 * applied, and the pool bound. The SQLite file checks do not apply and are skipped, saying why.
 */
export async function postgresChecks(
  config: StationConfig & { databaseUrl: string },
): Promise<CheckResult[]> {
  const target = redactDatabaseUrl(config.databaseUrl);
  const skipped = skip(
    "database-file",
    "SQLite file",
    "skipped: this station stores in PostgreSQL, not a file",
  );
  const store = await openPostgres(
    { url: config.databaseUrl, poolMax: 1, connectTimeoutMs: 5_000 },
    () => {},
  );
  try {
    const version = await sql<{ server_version: string }>`show server_version`.execute(store.db);
    const migrations = await sql<{
      name: string;
    }>`select name from kysely_migration order by name desc limit 1`
      .execute(store.db)
      .then((r) => r.rows[0]?.name ?? "none")
      .catch(() => "none (the station has not started on this database yet)");
    return [
      ok("database", "database", `PostgreSQL ${version.rows[0]?.server_version ?? "?"} at ${target}`),
      ok("migrations", "migrations", `newest applied: ${migrations}`),
      ok(
        "database-pool",
        "database pool",
        `at most ${config.databasePoolMax} connections per station (OPENGENIE_DATABASE_POOL_MAX)`,
      ),
      skipped,
    ];
  } catch (err) {
    const message = (err as Error).message.split(config.databaseUrl).join(target);
    return [
      fail(
        "database",
        "database",
        `cannot reach PostgreSQL at ${target}: ${message}`,
        "check that the server runs and the URL's host, port, user, password and database (--database-url, OPENGENIE_DATABASE_URL) are right",
      ),
      skipped,
    ];
  } finally {
    await store.close().catch(() => {});
  }
}
