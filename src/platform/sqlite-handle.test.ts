/**
 * The SQLite handle every storage caller goes through: kysely on it, our own queries, the
 * backup copy and the integrity check, all against real files; for bun:sqlite (Bun) and for
 * node:sqlite (Deno's; Bun has the module too, so both run here, and the Deno suite runs
 * the station on Deno's own).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Kysely, SqliteDialect } from "kysely";
import { makeTempDir } from "../../tests/helpers/temp-dir.ts";
import { openBunSqlite } from "./bun/bun-sqlite.ts";
import { openDenoSqlite } from "./deno/deno-sqlite.ts";
import type { SqliteHandle } from "./types.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

describe.each([
  ["bun:sqlite", openBunSqlite],
  ["node:sqlite", openDenoSqlite],
] as const)("%s behind the platform's SqliteHandle", (_name, openSqlite) => {
  function open(name = "test.db"): { db: SqliteHandle; path: string } {
    const dir = makeTempDir("opengenie-sqlite-");
    const path = join(dir.path, name);
    const db = openSqlite(path);
    cleanups.push(dir.remove, () => db.close());
    return { db, path };
  }

  /** A table big enough to span several pages, so one page can be damaged on its own. */
  function fill(db: SqliteHandle, rows = 2000) {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, b BLOB)");
    db.runBatch([
      { sql: "INSERT INTO t (v) VALUES (?)", rows: Array.from({ length: rows }, (_, i) => [`v${i}`]) },
    ]);
  }

  describe("the handle", () => {
    test("kysely runs on the handle itself, with parameters bound", async () => {
      const { db } = open();
      db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
      const k = new Kysely<{ t: { id: number; v: string | null; b: Uint8Array | null } }>({
        dialect: new SqliteDialect({ database: db }),
      });
      await k
        .insertInto("t")
        .values([
          { id: 1, v: "one", b: new Uint8Array([1, 2]) },
          { id: 2, v: null, b: null },
        ])
        .execute();
      const rows = await k.selectFrom("t").selectAll().where("id", ">=", 1).orderBy("id").execute();
      expect(rows).toEqual([
        { id: 1, v: "one", b: new Uint8Array([1, 2]) },
        { id: 2, v: null, b: null },
      ]);
      const streamed: number[] = [];
      for await (const row of k.selectFrom("t").select("id").stream()) streamed.push(row.id);
      expect(streamed).toEqual([1, 2]);
    });

    test("run and query bind parameters and return the selected rows", () => {
      const { db } = open();
      db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)");
      db.run("INSERT INTO kv (key, value) VALUES (?, ?)", ["a", "1"]);
      db.run("INSERT INTO kv (key, value) VALUES (?, ?)", ["b", null]);
      expect(db.query<{ key: string; value: string | null }>("SELECT * FROM kv ORDER BY key")).toEqual([
        { key: "a", value: "1" },
        { key: "b", value: null },
      ]);
      expect(db.query<{ n: number }>("SELECT count(*) AS n FROM kv WHERE key = ?", ["a"])).toEqual([
        { n: 1 },
      ]);
    });

    test("backupTo writes a complete, sound copy while the source stays open in WAL mode", () => {
      const { db, path } = open();
      db.exec("PRAGMA journal_mode = WAL");
      fill(db);
      const copyPath = `${path}.backup`;
      db.backupTo(copyPath);
      db.run("INSERT INTO t (v) VALUES (?)", ["after the backup"]);
      const copy = openSqlite(copyPath);
      cleanups.push(() => copy.close());
      expect(copy.query<{ n: number }>("SELECT count(*) AS n FROM t")).toEqual([{ n: 2000 }]);
      expect(copy.integrityCheck("full")).toEqual([]);
    });

    test("integrityCheck: none for a sound file, SQLite's findings for a damaged page", () => {
      const { db, path } = open();
      fill(db);
      expect(db.integrityCheck("quick")).toEqual([]);
      expect(db.integrityCheck("full")).toEqual([]);
      db.close();
      const fd = openSync(path, "r+");
      writeSync(fd, Buffer.alloc(100, 0xff), 0, 100, 4096 * 5 + 200); // inside the table's 6th page
      closeSync(fd);
      const damaged = openSqlite(path);
      cleanups.push(() => damaged.close());
      for (const mode of ["quick", "full"] as const) {
        const problems = damaged.integrityCheck(mode);
        expect(problems.length).toBeGreaterThan(0);
        // SQLite lists the damaged cells, or stops at the first with "malformed", depending on the page.
        expect(problems.join("\n")).toMatch(/out of range|malformed/);
      }
    });
  });
});
