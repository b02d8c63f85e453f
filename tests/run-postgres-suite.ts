#!/usr/bin/env bun
/**
 * `npm run test:postgres`: the device, API and `/ws` end-to-end tests against stations storing
 * in PostgreSQL (OPENGENIE_TEST_DATABASE=postgres: each data dir gets its own database on one
 * private cluster, tests/helpers/test-database.ts). Only the files listed run, each picked
 * because it drives the storage through the station; the rest stay SQLite-only and the reason
 * for that is printed (docs/postgres.md).
 *
 *   bun tests/run-postgres-suite.ts [extra bun test arguments]
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startPostgres } from "./helpers/postgres.ts";
import { repoRoot } from "./helpers/station-runtime.ts";

/** The files run on PostgreSQL: devices, events, state, the HTTP API, `/ws`, users and tokens. */
export const ON_POSTGRES = [
  "admin-tokens.test.ts",
  "admin-users.test.ts",
  "app-socket-auth.test.ts",
  "automations-api.test.ts",
  "automations-devices.test.ts",
  "cli-devices.test.ts",
  "device-limits.test.ts",
  "devices-mqtt.test.ts",
  "devices-security.test.ts",
  "events-api.test.ts",
  "http-api.test.ts",
  "ws-client.test.ts",
  "ws-iot.test.ts",
  "ws-limits.test.ts",
];

const files = readdirSync(join(repoRoot, "tests"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort();
const run = files.filter((f) => ON_POSTGRES.includes(f));
console.log(
  `not on PostgreSQL: ${files.length - run.length} files: SQLite-file behaviour (backup, durability after kill -9 of the file, storage trouble of a full disk, file permissions), packaging, the web app in Chromium and module/driver/cloud protocols whose storage is the same kysely code these files already cover; the suite time stays within the CI budget`,
);
// One private cluster for the whole run, owned (and always removed) here.
const cluster = await startPostgres();
const proc = Bun.spawn(
  [
    process.execPath,
    "test",
    "--timeout",
    "60000",
    ...process.argv.slice(2),
    ...run.map((f) => `./tests/${f}`),
  ],
  {
    cwd: repoRoot,
    env: { ...process.env, OPENGENIE_TEST_DATABASE: "postgres", OPENGENIE_TEST_POSTGRES_URL: cluster.url() },
    stdio: ["inherit", "inherit", "inherit"],
  },
);
const code = await proc.exited;
cluster.stop();
process.exit(code);
