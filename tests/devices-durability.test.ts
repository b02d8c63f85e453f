import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { mosquittoPath, startMosquitto } from "./helpers/mosquitto.ts";
import { runCommand, spawnStation, stationBin } from "./helpers/spawn-station.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation } from "./helpers/test-station.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
function own<T extends { stop(...args: never[]): unknown }>(thing: T): T {
  cleanups.push(() => (thing.stop as () => unknown)());
  return thing;
}

bunOnly(CLOCK_ONLY_IN_PROCESS)("offline after 3 missed heartbeats (injected clock)", async () => {
  const clock = createManualClock(Date.now());
  const s = own(await startTestStation({ clock }));
  const admin = await s.userToken("hb-admin", "admin");
  const { device, credentials } = await addDevice(s, admin, "Quiet", "switch");
  const sim: SimulatedDevice = own(simFor(credentials, "switch", { heartbeatSec: 20 }));
  await sim.start();
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.online,
  );
  clock.advance(55_000);
  expect((await getDevice(s, admin, device.id)).online).toBe(true);
  clock.advance(10_000);
  expect((await getDevice(s, admin, device.id)).online).toBe(false);
  // Any later message brings it back.
  await sim.publishState({ power: "on" });
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.online && d.state.power === "on",
  );
});

test("a restart keeps devices and their last state", async () => {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const first = await startTestStation({ dataDir: dir.path });
  const admin = await first.userToken("r-admin", "admin");
  const { device, credentials } = await addDevice(first, admin, "Desk lamp", "light");
  const sim = simFor(credentials, "light", { reconnect: false });
  await sim.start();
  await sim.publishState({ power: "on", brightness: 42 });
  await eventually(
    () => getDevice(first, admin, device.id),
    (d) => d.state.brightness === 42,
  );
  await sim.stop({ graceful: true });
  await first.stop();

  const second = own(await startTestStation({ dataDir: dir.path }));
  const again = await getDevice(second, admin, device.id);
  expect(again).toMatchObject({
    name: "Desk lamp",
    type: "light",
    online: false,
    firmwareVersion: "sim-1.0.0",
  });
  expect(again.state).toMatchObject({ power: "on", brightness: 42 });
});

describe.skipIf(!mosquittoPath())("external broker (Mosquitto)", () => {
  test("a broker restart is survived: the station reconnects and devices resume", async () => {
    const broker = own(await startMosquitto());
    const s = own(await startTestStation({ env: { OPENGENIE_MQTT_URL: broker.url } }));
    const admin = await s.userToken("ext-admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Lamp", "light");
    const sim = own(simFor(credentials, "light"));
    await sim.start();
    await broker.restart();
    await eventually(
      async () =>
        ((await (await s.api("/api/health")).json()) as { mqtt: { connected: boolean } }).mqtt.connected,
      (c) => c,
      10_000,
    );
    await eventually(
      async () => sim.ready,
      (r) => r,
      10_000,
    );
    const res = await s.api(`/api/devices/${device.id}/commands?wait=5000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "set_brightness", params: { brightness: 9 } }),
    });
    expect(res.status).toBe(200);
    await eventually(
      () => getDevice(s, admin, device.id),
      (d) => d.state.brightness === 9 && d.online,
    );
  });

  test("QoS 1 state sent while the station is down is delivered when it comes back", async () => {
    const broker = own(await startMosquitto());
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const env = { OPENGENIE_MQTT_URL: broker.url };
    const first = await startTestStation({ dataDir: dir.path, env });
    const admin = await first.userToken("q-admin", "admin");
    const { device, credentials } = await addDevice(first, admin, "Meter", "sensor");
    const sim = own(simFor(credentials, "sensor", { sensorIntervalMs: 600_000 }));
    await sim.start();
    await first.stop();
    await sim.publishState({ temperature: 99.5 });
    const second = own(await startTestStation({ dataDir: dir.path, env }));
    await eventually(
      () => getDevice(second, admin, device.id),
      (d) => d.state.temperature === 99.5,
    );
  });
});

test("kill -9 during a flood of state updates leaves a consistent database that loses at most about a second", async () => {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const bin = stationBin;
  const station = await spawnStation(dir.path);
  cleanups.push(() => (station.proc.exitCode === null ? station.proc.kill("SIGKILL") : undefined));
  await runCommand(
    [...bin, "user", "add", "flood", "--role", "admin", "--password-stdin", "--data-dir", dir.path],
    {
      stdin: "flood-password\n",
    },
  );
  const token = (
    await runCommand([...bin, "token", "create", "--user", "flood", "--data-dir", dir.path])
  ).stdout.trim();
  const api = station.info.httpUrl;
  const fakeStation = {
    api: (p: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${api}${p}`, {
        ...init,
        headers: { authorization: `Bearer ${init.token}`, "content-type": "application/json" },
      }),
  };
  const sims: SimulatedDevice[] = [];
  const sent = new Map<string, { at: number; seq: number }[]>();
  for (let i = 0; i < 4; i++) {
    const { credentials } = await addDevice(fakeStation as never, token, `flood-${i}`, "sensor");
    const sim = simFor(credentials, "sensor", { sensorIntervalMs: 600_000, reconnect: false });
    await sim.start();
    sims.push(sim);
    sent.set(credentials.deviceId, []);
  }
  cleanups.push(async () => {
    for (const sim of sims) await sim.stop({ graceful: false }).catch(() => {});
  });
  const floodUntil = Date.now() + 2500;
  let killedAt = 0;
  await Promise.all(
    sims.map(async (sim) => {
      let seq = 0;
      while (Date.now() < floodUntil) {
        seq++;
        await sim.publishState({ seq });
        sent.get(sim.deviceId)!.push({ at: Date.now(), seq });
      }
    }),
  );
  station.proc.kill("SIGKILL");
  killedAt = Date.now();
  await station.proc.exited;

  const db = new Database(join(dir.path, "opengenie.db"));
  try {
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const rows = db.query("SELECT device_id, state FROM device_state").all() as {
      device_id: string;
      state: string;
    }[];
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const stored = JSON.parse(row.state) as { seq: number };
      const history = sent.get(row.device_id)!;
      const last = history.at(-1)!.seq;
      // Everything sent up to ~1 s before the kill (plus slack for a loaded CI machine) is on disk.
      const floor = history.filter((h) => h.at <= killedAt - 2000).at(-1)?.seq ?? 0;
      expect(stored.seq).toBeGreaterThanOrEqual(floor);
      expect(stored.seq).toBeLessThanOrEqual(last);
    }
  } finally {
    db.close();
  }
  // And the station starts again on that file.
  const again = await spawnStation(dir.path);
  cleanups.push(() => again.terminate());
  const list = await fetch(`${again.info.httpUrl}/api/devices`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(((await list.json()) as { devices: unknown[] }).devices).toHaveLength(4);
}, 60_000);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "the embedded broker's messages are written with the batch, not flushed early for acks (injected clock)",
  async () => {
    // Deferred PUBACKs (an external broker, docs/scale-out.md) flush the writer every 16
    // messages; the embedded broker's in-process client acks nothing, so it must not.
    const clock = createManualClock(Date.now());
    const s = own(await startTestStation({ clock }));
    const admin = await s.userToken("batch-admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Busy", "light");
    const sim: SimulatedDevice = own(simFor(credentials, "light"));
    await sim.start();
    clock.advance(1_000); // the pairing and the connection's rows land now
    await Bun.sleep(50);
    const file = new Database(join(s.dataDir, "opengenie.db"), { readonly: true });
    cleanups.push(() => file.close());
    const storedBrightness = () =>
      (
        JSON.parse(
          (
            file.query("SELECT state FROM device_state WHERE device_id = ?").get(device.id) as {
              state: string;
            } | null
          )?.state ?? "{}",
        ) as { brightness?: number }
      ).brightness;
    for (let i = 1; i <= 40; i++) await sim.publishState({ brightness: i });
    await eventually(
      () => getDevice(s, admin, device.id),
      (d) => d.state.brightness === 40,
    );
    expect(storedBrightness()).not.toBe(40);
    clock.advance(1_000);
    await eventually(
      async () => storedBrightness(),
      (n) => n === 40,
    );
  },
);
