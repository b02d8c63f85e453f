/**
 * node:sqlite (`DatabaseSync`, built into Deno 2) behind the platform's SqliteHandle, with
 * the same behaviour as bun:sqlite's: positional parameters, BLOBs as Uint8Array, booleans
 * stored as 1/0, one transaction per batch.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SqliteStatement } from "kysely";
import type { SqliteHandle, SqliteValue } from "../types.ts";

/** SQLite's primary result code for a damaged file (SQLITE_CORRUPT). */
const SQLITE_CORRUPT = 11;

/** node:sqlite refuses booleans, which bun:sqlite binds as 1 and 0; both store integers. */
function bindOne(value: unknown): SQLInputValue {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (
    value === null ||
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "bigint" ||
    value instanceof Uint8Array
  )
    return value;
  throw new TypeError(`cannot bind a ${typeof value} parameter to SQLite`);
}

const bind = (params: readonly unknown[] | undefined): SQLInputValue[] => (params ?? []).map(bindOne);

/** A node:sqlite statement as kysely's SqliteStatement; `reader` is whether it returns columns. */
function kyselyStatement(db: DatabaseSync, sql: string): SqliteStatement {
  const stmt = db.prepare(sql);
  return {
    reader: stmt.columns().length > 0,
    all: (params) => stmt.all(...bind(params)),
    run: (params) => {
      const { changes, lastInsertRowid } = stmt.run(...bind(params));
      return { changes, lastInsertRowid };
    },
    iterate: (params) => stmt.iterate(...bind(params)),
  };
}

function isCorrupt(err: unknown): boolean {
  const code = (err as { errcode?: unknown }).errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_CORRUPT;
}

export function openDenoSqlite(path: string): SqliteHandle {
  const db = new DatabaseSync(path);
  // Statements the station runs again and again are prepared once, as bun:sqlite's query() caches.
  const cache = new Map<string, StatementSync>();
  let closed = false;
  const cached = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (cache.size >= 256) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
  return {
    prepare: (sql) => kyselyStatement(db, sql),
    close: () => {
      // A second close is a no-op, as on bun:sqlite (node:sqlite would throw).
      if (closed) return;
      closed = true;
      cache.clear();
      db.close();
    },
    exec: (sql) => {
      db.exec(sql);
    },
    run: (sql, params) => {
      cached(sql).run(...bind(params));
    },
    query: <Row>(sql: string, params?: readonly SqliteValue[]) =>
      // The caller declares the shape its SQL selects; SQLite itself does not type rows.
      cached(sql).all(...bind(params)) as Row[],
    runBatch: (statements) => {
      db.exec("BEGIN");
      try {
        for (const { sql, rows } of statements) {
          const stmt = cached(sql);
          for (const row of rows) stmt.run(...bind(row));
        }
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
    },
    backupTo: (file) => {
      db.prepare("VACUUM INTO ?").run(file);
    },
    integrityCheck: (mode) => {
      const pragma = mode === "quick" ? "quick_check" : "integrity_check";
      let found: string[];
      try {
        const rows = db.prepare(`PRAGMA ${pragma}`).all() as Record<string, unknown>[];
        found = rows.flatMap((row) => String(Object.values(row)[0]).split("\n"));
      } catch (err) {
        // As on Bun: damage that stops the check is its finding; a file that is no database
        // at all (SQLITE_NOTADB) stays an error.
        if (isCorrupt(err)) return [(err as Error).message];
        throw err;
      }
      return found.filter((line) => line !== "ok" && !line.startsWith("*** "));
    },
  };
}
