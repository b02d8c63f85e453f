/**
 * Several instances on one PostgreSQL (docs/scale-out.md), the database restarted while the
 * devices stream QoS 1 events: the instances keep serving from memory, report the trouble in
 * /api/health, hold the PUBACKs of what they could not store, and once the database is back
 * every event the devices published is stored exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import {
  addSimDevices,
  type Cluster,
  startCluster,
  storedEventSeqs,
  streamEvents,
} from "./helpers/cluster.ts";
import { eventually } from "./helpers/devices.ts";
import { mosquittoPath } from "./helpers/mosquitto.ts";
import { postgresBinDir } from "./helpers/postgres.ts";

const DEVICES = 4;
const EVENTS = 120;
const PACE_MS = 66;

let cluster: Cluster;
let admin: string;
const sims: SimulatedDevice[] = [];
const ids: string[] = [];

const storedSeqs = (id: string) => storedEventSeqs(cluster.instances[2]!, admin, id);

const storageOk = async (i: number) =>
  ((await (await cluster.instances[i]!.api("/api/health")).json()) as { storage?: { ok: boolean } }).storage
    ?.ok;

describe.skipIf(!mosquittoPath() || !postgresBinDir())("the shared PostgreSQL restarted mid-stream", () => {
  beforeAll(async () => {
    cluster = await startCluster({ instances: 3 });
    expect(cluster.postgres).toBeDefined();
    admin = await cluster.userToken("admin", "admin");
    const added = await addSimDevices(cluster, admin, DEVICES, "sensor");
    ids.push(...added.ids);
    sims.push(...added.sims);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop().catch(() => undefined)));
    await cluster?.stop();
  });

  test("nothing the devices published is lost, and health says so while it is down", async () => {
    const stream = streamEvents(sims, EVENTS, PACE_MS);
    await eventually(
      async () => stream.published(),
      (n) => n >= (DEVICES * EVENTS) / 4,
      20_000,
    );
    // Each instance has checked the admin's session once (a browser's first request does that).
    for (const i of cluster.instances)
      expect((await i.api("/api/devices", { token: admin })).status).toBe(200);
    cluster.postgres!.stopServer();
    // Every instance still answers; the ones with writes waiting say storage is down.
    await eventually(
      async () => Promise.all([0, 1, 2].map(storageOk)),
      (oks) => oks.includes(false),
      10_000,
    );
    const list = await cluster.instances[1]!.api("/api/devices", { token: admin });
    expect(list.status).toBe(200);
    // A session no instance has seen cannot be checked: 503 saying what to wait for.
    const stranger = await cluster.instances[1]!.api("/api/devices", { token: `${admin.slice(0, -4)}AAAA` });
    expect([401, 503]).toContain(stranger.status);
    await Bun.sleep(1_500);
    cluster.postgres!.startServer();
    await stream.done;
    for (const id of ids) {
      const seqs = await eventually(
        () => storedSeqs(id),
        (s) => new Set(s).size === EVENTS,
        30_000,
      );
      expect(new Set(seqs).size).toBe(EVENTS);
    }
    await eventually(
      async () => Promise.all([0, 1, 2].map(storageOk)),
      (oks) => oks.every((ok) => ok !== false),
      10_000,
    );
  }, 150_000);
});
