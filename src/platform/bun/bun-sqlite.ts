import { Database, SQLiteError, type SQLQueryBindings } from "bun:sqlite";
import type { SqliteStatement } from "kysely";
import type { SqliteHandle, SqliteValue } from "../types.ts";

/** Our parameter lists are arrays of plain values, which bun:sqlite binds positionally. */
const bind = (params: readonly SqliteValue[] | undefined): SQLQueryBindings[] => [...(params ?? [])];

/** kysely hands parameters over as `unknown`; only values SQLite can store are bound. */
function bindAny(params: readonly unknown[]): SQLQueryBindings[] {
  return params.map((value) => {
    if (
      value === null ||
      typeof value === "string" ||
      typeof value === "number" ||
      typeof value === "bigint" ||
      typeof value === "boolean" ||
      value instanceof Uint8Array
    )
      return value;
    throw new TypeError(`cannot bind a ${typeof value} parameter to SQLite`);
  });
}

/** A bun:sqlite statement as kysely's SqliteStatement (parameters as one array, not spread). */
function kyselyStatement(db: Database, sql: string): SqliteStatement {
  const stmt = db.prepare(sql);
  return {
    reader: stmt.reader,
    all: (params) => stmt.all(...bindAny(params)),
    run: (params) => stmt.run(...bindAny(params)),
    iterate: (params) => stmt.iterate(...bindAny(params)),
  };
}

/** bun:sqlite behind the port's SqliteHandle (kysely's SqliteDatabase plus our own calls). */
export function openBunSqlite(path: string): SqliteHandle {
  const db = new Database(path, { create: true, strict: false });
  return {
    prepare: (sql) => kyselyStatement(db, sql),
    close: () => db.close(),
    exec: (sql) => {
      db.exec(sql);
    },
    run: (sql, params) => {
      db.query(sql).run(...bind(params));
    },
    query: <Row>(sql: string, params?: readonly SqliteValue[]) =>
      // The caller declares the shape its SQL selects; SQLite itself does not type rows.
      db.query<Row, SQLQueryBindings[]>(sql).all(...bind(params)),
    runBatch: (statements) => {
      db.transaction(() => {
        for (const { sql, rows } of statements) {
          const stmt = db.query(sql);
          for (const row of rows) stmt.run(...row);
        }
      })();
    },
    backupTo: (file) => {
      db.query("VACUUM INTO ?").run(file);
    },
    integrityCheck: (mode) => {
      const pragma = mode === "quick" ? "quick_check" : "integrity_check";
      let found: string[];
      try {
        const rows = db.query<Record<string, string>, []>(`PRAGMA ${pragma}`).all();
        found = rows.flatMap((row) => String(Object.values(row)[0]).split("\n"));
      } catch (err) {
        // Damage bad enough to stop the check is its finding; a file that is no database at all
        // (SQLITE_NOTADB) is not a damaged database, and stays an error.
        if (err instanceof SQLiteError && err.code === "SQLITE_CORRUPT") return [err.message];
        throw err;
      }
      // SQLite prefixes findings with "*** in database main ***", which says nothing by itself.
      const problems = found.filter((line) => line !== "ok" && !line.startsWith("*** "));
      return problems;
    },
  };
}
