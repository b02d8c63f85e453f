import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { createBunPlatform } from "../platform/index.ts";
import { migrationNames } from "./migrations.ts";
import { databasePath, openDatabase, type StationDatabase } from "./open-database.ts";

const dirs: string[] = [];
const open: StationDatabase[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openIn(dir: string) {
  const database = await openDatabase(createBunPlatform(), dir);
  open.push(database);
  return database;
}

async function closeLast() {
  await open.pop()!.close();
}

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "opengenie-open-db-"));
  dirs.push(dir);
  return dir;
}

const tables = async (database: StationDatabase) =>
  (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(database.db)).rows
    .map((r) => r.name)
    .sort();
const applied = async (database: StationDatabase) =>
  (
    await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db)
  ).rows.map((r) => r.name);

test("a restart on an up-to-date database reads the applied migrations and leaves the migrator's tables alone", async () => {
  const dir = tempDir();
  const first = await openIn(dir);
  expect(await applied(first)).toEqual([...migrationNames]);
  // The migrator makes this table at every run: dropped, it stays away only if the migrator does not run.
  await sql`drop table kysely_migration_lock`.execute(first.db);
  await closeLast();
  const again = await openIn(dir);
  expect(await tables(again)).not.toContain("kysely_migration_lock");
  expect(await applied(again)).toEqual([...migrationNames]);
});

test("a pending migration is applied at the next start", async () => {
  const dir = tempDir();
  const first = await openIn(dir);
  // As a database from the version before 0007: without it and the two tables it made.
  expect(migrationNames.at(-1)).toBe("0007_integrations"); // a newer one: move this test to it
  await sql`delete from kysely_migration where name = '0007_integrations'`.execute(first.db);
  const before = await tables(first);
  await sql`drop table ha_discovery`.execute(first.db);
  await sql`drop table integrations`.execute(first.db);
  await closeLast();
  const again = await openIn(dir);
  expect(await applied(again)).toEqual([...migrationNames]);
  expect(await tables(again)).toEqual(before);
});

test("a database migrated by a newer version is refused, as before, and not changed", async () => {
  const dir = tempDir();
  const first = await openIn(dir);
  await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01')`.execute(
    first.db,
  );
  const before = await tables(first);
  await closeLast();
  expect(openIn(dir)).rejects.toThrow("9999_from_the_future");
  const file = new Database(databasePath(dir), { readonly: true });
  try {
    const names = file.query("select name from sqlite_master where type = 'table' order by name").all();
    expect(names.map((r) => (r as { name: string }).name)).toEqual(before);
    expect(file.query("select count(*) as n from kysely_migration").get()).toEqual({
      n: migrationNames.length + 1,
    });
  } finally {
    file.close();
  }
});
