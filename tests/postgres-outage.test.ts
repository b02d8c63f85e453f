/**
 * PostgreSQL restarting under a station (issue 19): while the server is down the station keeps
 * serving devices from memory, health reports the storage trouble, acknowledged device messages
 * wait in the writer, and once the server is back every one of them and the latest state land.
 */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { postgresBinDir, startPostgres } from "./helpers/postgres.ts";
import { spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Without PostgreSQL installed (.ci/run installs it) these tests skip, saying so. */
const pgTest = postgresBinDir() ? test : test.skip;

type Health = { status: string; storage?: { ok: boolean; error?: string } };
const health = async (s: TestStation) => (await (await s.api("/api/health")).json()) as Health;

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

pgTest(
  "PostgreSQL stopped mid-stream: health says so, the station serves from memory, and after the restart every acknowledged event and the latest state are stored",
  async () => {
    const cluster = await startPostgres();
    cleanups.push(() => cluster.stop());
    const url = await cluster.createDatabase("outage");
    // In config.json, so the station and the CLI commands the helpers run use the same database.
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    writeFileSync(join(dir.path, "config.json"), JSON.stringify({ databaseUrl: url }));
    const s = await startTestStation({ dataDir: dir.path });
    cleanups.push(() => s.stop());
    const admin = await s.userToken("pg-admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Hall switch", "switch");
    const sim = simFor(credentials, "switch");
    cleanups.push(() => sim.stop());
    await sim.start();

    // Each publishEvent resolves on the broker's PUBACK: the station has acknowledged it.
    for (let n = 0; n < 20; n++) await sim.publishEvent("device_event", { n });
    cluster.stopServer();
    for (let n = 20; n < 50; n++) await sim.publishEvent("device_event", { n });
    await sim.publishState({ power: "on" });

    const down = await eventually(
      () => health(s),
      (h) => h.storage?.ok === false,
      10_000,
    );
    // As for a full SQLite disk: the process is up ("ok"), the storage field carries the trouble.
    expect(down.status).toBe("ok");
    expect(down.storage?.error).toBeTruthy();
    expect(JSON.stringify(down)).not.toContain(":opengenie-test@");
    // Served from memory meanwhile: the device's latest state.
    expect((await getDevice(s, admin, device.id)).state.power).toBe("on");

    cluster.startServer();
    await eventually(
      () => health(s),
      (h) => h.storage?.ok === true,
      15_000,
    );
    const events = await query<{ data: string }>(url, "SELECT data FROM events WHERE device_id = $1", [
      device.id,
    ]);
    const seen = events
      .map((e) => JSON.parse(e.data) as { n?: number })
      .filter((d) => typeof d?.n === "number");
    expect(seen.map((d) => d.n).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const [state] = await query<{ state: string }>(
      url,
      "SELECT state FROM device_state WHERE device_id = $1",
      [device.id],
    );
    expect(JSON.parse(state!.state).power).toBe("on");
  },
  90_000,
);

pgTest(
  "a wrong PostgreSQL password or an unreachable server: clear startup error, non-zero exit, no password in the output",
  async () => {
    const cluster = await startPostgres();
    cleanups.push(() => cluster.stop());
    for (const url of [
      cluster.url().replace("opengenie-test", "not-the-secret"),
      `postgres://postgres:not-the-secret@127.0.0.1:${cluster.port + 1}/x`,
    ]) {
      const dir = makeTempDir();
      cleanups.push(() => dir.remove());
      const err = (await spawnStation(dir.path, {
        args: ["--port", "0", "--mqtt-port", "0", "--database-url", url],
        timeoutMs: 20_000,
      }).catch((e: Error) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain("did not start (exit 1)");
      expect(err.message).toContain("postgres://postgres:***@127.0.0.1");
      expect(err.message).not.toContain("not-the-secret");
    }
  },
  60_000,
);
