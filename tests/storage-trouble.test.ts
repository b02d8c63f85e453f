import { Database } from "bun:sqlite";
import { afterAll, afterEach, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock } from "../src/core/index.ts";
import { STATE_HISTORY_WINDOW_MS } from "../src/devices/disk-diet.ts";
import { stationChecks } from "../src/doctor/index.ts";
import { createBunPlatform } from "../src/platform/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS, onDeno } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
function own<T extends { stop(...args: never[]): unknown }>(thing: T): T {
  cleanups.push(() => (thing.stop as () => unknown)());
  return thing;
}

type Health = { status: string; storage?: { ok: boolean; error?: string } };
const health = async (s: TestStation) => (await (await s.api("/api/health")).json()) as Health;
/** Reading a device's events makes the writer flush first, so the test decides when batches run. */
const flush = async (s: TestStation, token: string, deviceId: string) =>
  expect((await s.api(`/api/devices/${deviceId}/events?limit=1`, { token })).status).toBe(200);
async function metric(s: TestStation, line: string): Promise<number> {
  const text = await (await s.api("/metrics")).text();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}
function openFile(dataDir: string) {
  const db = new Database(join(dataDir, "opengenie.db"));
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
  return db;
}

test("a device deleted while its state is pending does not jam the writer: other devices' writes land and the refused rows are counted", async () => {
  // The manual clock never fires the writer's timer: batches run only when the test flushes.
  const s = own(await startTestStation({ clock: createManualClock(Date.now()) }));
  const admin = await s.userToken("jam-admin", "admin");
  const a = await addDevice(s, admin, "Doomed", "switch");
  const b = await addDevice(s, admin, "Survivor", "switch");
  const simA = own(simFor(a.credentials, "switch", { reconnect: false }));
  const simB = own(simFor(b.credentials, "switch"));
  await simA.start();
  await simB.start();
  await flush(s, admin, b.device.id);
  await simA.publishState({ power: "on" });
  await eventually(
    () => getDevice(s, admin, a.device.id),
    (d) => d.state.power === "on",
  );
  await simA.stop({ graceful: false });

  // Another writer of the data dir (sqlite3 by hand, a CLI on the file) deletes the device
  // while its state and events wait in the station's writer.
  const file = openFile(s.dataDir);
  cleanups.push(() => file.close());
  file.query("DELETE FROM devices WHERE id = ?").run(a.device.id);

  await simB.publishState({ power: "on" });
  await eventually(
    () => getDevice(s, admin, b.device.id),
    (d) => d.state.power === "on",
  );
  await flush(s, admin, b.device.id);
  const stateOf = (id: string) =>
    (file.query("SELECT state FROM device_state WHERE device_id = ?").get(id) as { state: string } | null)
      ?.state;
  expect(stateOf(b.device.id)).toBe('{"power":"on"}');
  expect(file.query("SELECT id FROM devices WHERE id = ?").get(a.device.id)).toBeNull();
  expect(stateOf(a.device.id)).toBeUndefined();
  expect(await metric(s, 'opengenie_write_failures_total{reason="rejected"}')).toBeGreaterThan(0);

  // And the writer keeps going with later batches.
  await simB.publishState({ power: "off" });
  await eventually(
    () => getDevice(s, admin, b.device.id),
    (d) => d.state.power === "off",
  );
  await flush(s, admin, b.device.id);
  expect(stateOf(b.device.id)).toBe('{"power":"off"}');
  expect((await health(s)).storage).toEqual({ ok: true });
}, 30_000);

/** A 4 MiB tmpfs to hold the data dir; mounting needs root, so elsewhere the test is skipped. */
function mountSmallDisk(): { path?: string; skip?: string } {
  if (process.platform !== "linux") return { skip: "tmpfs mounts are Linux-only" };
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root" };
  const path = mkdtempSync(join(tmpdir(), "opengenie-full-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", path], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    rmdirSync(path);
    return { skip: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || "").trim()}` };
  }
  return { path };
}
const disk = mountSmallDisk();
afterAll(() => {
  if (!disk.path) return;
  // Lazy: SQLite handles closed by the station may still be finalizing; the mount goes now
  // and its memory once they are gone.
  spawnSync("umount", ["-l", disk.path]);
  rmdirSync(disk.path);
});

/** Takes every free byte of the file system holding `dir`; returns the filler file. */
function fillDisk(dir: string): string {
  const filler = join(dir, "filler");
  const fd = openSync(filler, "w");
  try {
    for (const size of [65536, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

(onDeno ? bunOnly(CLOCK_ONLY_IN_PROCESS) : test.skipIf(disk.skip !== undefined))(
  `a full disk keeps device data pending and reports it in /api/health and doctor until space is freed${disk.skip ? ` (skipped: ${disk.skip})` : ""}`,
  async () => {
    const clock = createManualClock(Date.now());
    const s = own(await startTestStation({ clock, dataDir: disk.path! }));
    const admin = await s.userToken("full-admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Meter", "sensor");
    const sim = own(simFor(credentials, "sensor", { sensorIntervalMs: 600_000 }));
    await sim.start();
    await flush(s, admin, device.id);
    expect((await health(s)).storage).toEqual({ ok: true });

    const filler = fillDisk(s.dataDir);
    let seq = 0;
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) await sim.publishState({ seq: ++seq, pad: "x".repeat(2000) });
      await eventually(
        () => getDevice(s, admin, device.id),
        (d) => d.state.seq === seq,
      );
      await flush(s, admin, device.id);
    };
    // Flood state until a batch no longer fits; the writer then holds it back.
    while (seq < 400 && (await health(s)).storage?.ok !== false) await publish(10);
    const down = await health(s);
    expect(down.status).toBe("ok");
    expect(down.storage).toMatchObject({ ok: false, error: expect.stringMatching(/^SQLITE_FULL/) });
    const doctor = await stationChecks(s.config, createBunPlatform());
    expect(doctor.find((c) => c.id === "storage")).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("free disk space"),
    });
    // More state while the disk is full waits too, and the timer's retries change nothing.
    await publish(10);
    clock.advance(3000);
    expect((await health(s)).storage?.ok).toBe(false);
    expect(await metric(s, 'opengenie_write_failures_total{reason="rejected"}')).toBe(0);

    unlinkSync(filler);
    clock.advance(1000);
    await eventually(
      () => health(s),
      (h) => h.storage?.ok === true,
    );
    expect((await health(s)).storage).toEqual({ ok: true });
    expect(await metric(s, 'opengenie_write_failures_total{reason="dropped"}')).toBe(0);

    // Nothing that was pending is lost: the history's minute ends with the last report (one
    // row per minute, src/devices/disk-diet.ts), and the last report is the state.
    clock.advance(STATE_HISTORY_WINDOW_MS + 5_000);
    await flush(s, admin, device.id);
    const file = openFile(s.dataDir);
    cleanups.push(() => file.close());
    const logged = (
      file
        .query("SELECT data FROM events WHERE device_id = ? AND kind = 'state' ORDER BY id")
        .all(device.id) as { data: string }[]
    )
      .map((r) => (JSON.parse(r.data) as { seq?: number }).seq)
      .filter((n) => n !== undefined);
    expect(logged.at(-1)).toBe(seq);
    expect(logged.length).toBeLessThanOrEqual(2);
    const state = file.query("SELECT state FROM device_state WHERE device_id = ?").get(device.id) as {
      state: string;
    };
    expect((JSON.parse(state.state) as { seq: number }).seq).toBe(seq);
    expect((await stationChecks(s.config, createBunPlatform())).find((c) => c.id === "storage")?.status).toBe(
      "ok",
    );
  },
  60_000,
);
