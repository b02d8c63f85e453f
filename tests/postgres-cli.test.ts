/** `opengenie backup`, `restore` and `doctor` on a station that stores in PostgreSQL. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PostgresCluster, postgresBinDir, startPostgres } from "./helpers/postgres.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli } from "./helpers/test-station.ts";

const pgTest = postgresBinDir() ? test : test.skip;
let cluster: PostgresCluster;
const dir = makeTempDir();
let url = "";

beforeAll(async () => {
  if (!postgresBinDir()) return;
  cluster = await startPostgres();
  url = await cluster.createDatabase("cli");
  writeFileSync(join(dir.path, "config.json"), JSON.stringify({ databaseUrl: url }));
  // A user added through the CLI migrates and fills the PostgreSQL database.
  const added = await cli(
    dir.path,
    ["user", "add", "pat", "--role", "owner", "--password-stdin"],
    "pat-password-1\n",
  );
  expect(added.code).toBe(0);
}, 60_000);
afterAll(() => {
  cluster?.stop();
  dir.remove();
});

pgTest(
  "backup and restore refuse, pointing to pg_dump / pg_restore, without the password",
  async () => {
    const backup = await cli(dir.path, ["backup", "--out", join(dir.path, "b.db")]);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toContain("pg_dump");
    expect(backup.stderr).toContain("postgres://postgres:***@127.0.0.1");
    expect(backup.stderr).not.toContain(":opengenie-test@");
    const restore = await cli(dir.path, ["restore", join(dir.path, "b.db"), "--force"]);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toContain("pg_restore");
    expect(restore.stderr).not.toContain(":opengenie-test@");
  },
  60_000,
);

pgTest(
  "doctor reports the PostgreSQL server, the newest migration and the pool, and skips the SQLite file check",
  async () => {
    const doctor = await cli(dir.path, ["doctor", "--json"]);
    const out = doctor.stdout + doctor.stderr;
    expect(out).toContain("PostgreSQL 1");
    expect(out).toMatch(/newest applied: 00\d\d_/);
    expect(out).toContain("OPENGENIE_DATABASE_POOL_MAX");
    expect(out).toContain("skipped: this station stores in PostgreSQL");
    expect(out).not.toContain(":opengenie-test@");
  },
  60_000,
);
