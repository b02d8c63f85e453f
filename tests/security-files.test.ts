import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { databasePath } from "../src/storage/index.ts";
import { addDevice } from "./helpers/devices.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation } from "./helpers/test-station.ts";

// Issue 9, findings 1 and 9: no local user can read a secret the station writes.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const NOBODY = 65534;
const canDropPrivileges =
  process.getuid?.() === 0 && existsSync("/usr/bin/setpriv") && existsSync("/usr/bin/python3");

// Polls the backup's temporary and final files as `nobody` until told to stop, and prints
// READ <path> the first time it can read a byte of either.
const POLLER = `
import os, sys, time
paths, stop = sys.argv[1:-1], sys.argv[-1]
print("polling", flush=True)
while not os.path.exists(stop):
    for p in paths:
        try:
            with open(p, "rb") as f:
                if f.read(16):
                    print("READ " + p, flush=True); sys.exit(0)
        except OSError:
            pass
print("done", flush=True)
`;

test.skipIf(!canDropPrivileges)(
  "another Unix user polling the directory never reads a backup, not even while it is written",
  async () => {
    const temp = makeTempDir();
    cleanups.push(temp.remove);
    const s = await startTestStation({ dataDir: join(temp.path, "data") });
    cleanups.push(() => s.stop());
    const admin = await s.userToken("bk-admin", "admin");
    // Enough rows that each backup takes a while to write: a wide window for the poller.
    for (let i = 0; i < 40; i++) await addDevice(s, admin, `Lamp ${i}`, "light");
    const outDir = join(temp.path, "backups");
    mkdirSync(outDir);
    // A directory everyone may enter, as a home directory or /tmp often is.
    chmodSync(temp.path, 0o755);
    chmodSync(outDir, 0o755);
    const out = join(outDir, "station.db");
    const stop = join(outDir, "stop");
    const poller = Bun.spawn(
      [
        "/usr/bin/setpriv",
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        "/usr/bin/python3",
        "-c",
        POLLER,
        `${out}.partial`,
        `${out}.partial-journal`,
        out,
        stop,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    cleanups.push(() => poller.kill());
    const reader = poller.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("polling");
    for (let i = 0; i < 10; i++) {
      const res = await cli(s.dataDir, ["backup", "--out", out]);
      expect(res.code).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    }
    await Bun.write(stop, "");
    await poller.exited;
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).not.toContain("READ");
    expect(rest).toContain("done");
  },
  60_000,
);

test("restore leaves no copy of the token secret in the database", async () => {
  const temp = makeTempDir();
  cleanups.push(temp.remove);
  const s = await startTestStation({ dataDir: join(temp.path, "original") });
  const secret = s.config.jwtSecret;
  const backup = join(temp.path, "station.db");
  expect((await cli(s.dataDir, ["backup", "--out", backup])).code).toBe(0);
  await s.stop();
  // The backup itself must carry the secret (that is how a restore is the same station) ...
  expect(readFileSync(backup).includes(Buffer.from(secret))).toBe(true);
  const restored = join(temp.path, "restored");
  expect((await cli(restored, ["restore", backup])).code).toBe(0);
  // ... and the restored database must not, not even in a freed page.
  const db = readFileSync(databasePath(restored));
  expect(db.includes(Buffer.from(secret))).toBe(false);
  expect(statSync(databasePath(restored)).mode & 0o077).toBe(0o040);
  expect(readFileSync(join(restored, "jwt-secret"), "utf8").trim()).toBe(secret);
  expect(statSync(join(restored, "jwt-secret")).mode & 0o777).toBe(0o600);
  // And it still is the same station: it starts and the identity is the backup's.
  const again = await startTestStation({ dataDir: restored });
  cleanups.push(() => again.stop());
  expect(again.config.stationId).toBe(s.config.stationId);
});
