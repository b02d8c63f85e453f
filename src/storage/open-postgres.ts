import { Kysely, PostgresDialect } from "kysely";
import type { BatchStatement } from "../platform/index.ts";
import { redactDatabaseUrl } from "./database-url.ts";
import type { Database } from "./schema.ts";

/** How PostgreSQL is reached; the pool bound and timeouts are documented in docs/postgres.md. */
export interface PostgresOptions {
  url: string;
  poolMax: number;
  /** A statement running longer is cancelled (SQLSTATE 57014) and the write stays pending. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface PostgresStore {
  readonly db: Kysely<Database>;
  runBatch(statements: BatchStatement[]): Promise<void>;
  /** The pool's current state, for `opengenie doctor` and health. */
  poolState(): { total: number; idle: number; waiting: number; max: number };
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * Opens a `pg` pool (loaded only now, so SQLite stations never load the driver) behind kysely's
 * PostgresDialect. int8 (our bigint epoch ms and ids) is parsed into numbers on this pool only,
 * so rows look as they do on SQLite. Idle connections dropped by a server restart are logged by
 * the pool's error handler instead of crashing the process; the next query reconnects.
 */
export async function openPostgres(
  options: PostgresOptions,
  onPoolError: (err: Error) => void,
): Promise<PostgresStore> {
  const pg = (await import("pg")).default;
  const types = {
    getTypeParser: (oid: number, format?: "text" | "binary") =>
      oid === INT8_OID && format !== "binary"
        ? (value: string) => Number(value)
        : pg.types.getTypeParser(oid, format ?? "text"),
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: "opengenie",
    types: types as never,
  });
  pool.on("error", onPoolError);
  // A connection can also fail while checked out between queries (the server stopped): its
  // error then goes to the client, which without a listener would be an uncaught exception.
  pool.on("connect", (client) => client.on("error", onPoolError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Named prepared statements: each distinct SQL is parsed once per connection, not per row.
  const names = new Map<string, string>();
  const nameFor = (text: string) => {
    let name = names.get(text);
    if (!name) {
      name = `og_${names.size}`;
      names.set(text, name);
    }
    return name;
  };

  async function runBatch(statements: BatchStatement[]): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      for (const s of statements) {
        const name = nameFor(s.sql);
        for (const row of s.rows) await client.query({ name, text: s.sql, values: row });
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      // A connection that could not even roll back is discarded, not handed out again.
      client.release(broken);
    }
  }

  return {
    db,
    runBatch,
    poolState: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: options.poolMax,
    }),
    close: () => db.destroy(),
  };
}

/** A startup error that never carries the password. */
export function postgresStartError(url: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const safe = message.split(url).join(redactDatabaseUrl(url));
  return new Error(`cannot use the database at ${redactDatabaseUrl(url)}: ${safe}`);
}
