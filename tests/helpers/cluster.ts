/**
 * Several instances of one station (docs/scale-out.md) as real processes: the same station id
 * and JWT secret, one external Mosquitto, one shared database, each its own data dir. The
 * database is PostgreSQL, as docs/scale-out.md prescribes: `databaseUrl` when given, else a
 * private cluster started here (tests/helpers/postgres.ts). Only where PostgreSQL is not
 * installed (`.ci/run` installs it) is it one SQLite file every data dir links to, which a
 * test can also ask for with `database: "sqlite"`; the instances share rows either way.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { SimulatedDevice } from "../../firmware-sim/index.ts";
import { createdDeviceSchema } from "../../src/protocol/index.ts";
import { databasePath } from "../../src/storage/index.ts";
import { simFor } from "./devices.ts";
import { type Mosquitto, startMosquitto } from "./mosquitto.ts";
import { type PostgresCluster, postgresBinDir, startPostgres } from "./postgres.ts";
import { type SpawnedStation, spawnStation } from "./spawn-station.ts";
import { makeTempDir } from "./temp-dir.ts";
import { cli } from "./test-station.ts";

export interface ClusterOptions {
  instances?: number;
  databaseUrl?: string;
  database?: "postgres" | "sqlite";
  env?: Record<string, string>;
}

export interface ClusterInstance {
  id: string;
  dataDir: string;
  readonly station: SpawnedStation;
  readonly url: string;
  readonly wsUrl: string;
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** SIGKILL, as a crash would: no DISCONNECT, no flush. */
  kill9(): Promise<void>;
  /** Starts the process again on the same data dir (same instance id). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  metrics(): Promise<string>;
}

export async function startCluster(options: ClusterOptions = {}) {
  const temp = makeTempDir("opengenie-cluster-");
  const broker: Mosquitto = await startMosquitto();
  const wantPostgres =
    !options.databaseUrl && options.database !== "sqlite" && postgresBinDir() !== undefined;
  const postgres: PostgresCluster | undefined = wantPostgres ? await startPostgres() : undefined;
  const databaseUrl = options.databaseUrl ?? (await postgres?.createDatabase("cluster"));
  const stationId = `st-cluster${randomBytes(3).toString("hex")}`;
  const env: Record<string, string> = {
    OPENGENIE_STATION_ID: stationId,
    OPENGENIE_JWT_SECRET: randomBytes(32).toString("base64url"),
    OPENGENIE_MQTT_URL: broker.url,
    OPENGENIE_HA_DISCOVERY: "off",
    LOG_FORMAT: "json",
    ...(databaseUrl ? { OPENGENIE_DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  };
  const sharedDir = join(temp.path, "shared");
  mkdirSync(sharedDir);
  const names = ["A", "B", "C", "D", "E"].slice(0, options.instances ?? 3);

  function makeInstance(id: string): ClusterInstance {
    const dataDir = join(temp.path, id);
    mkdirSync(join(dataDir, "run"), { recursive: true });
    if (!databaseUrl) symlinkSync(databasePath(sharedDir), databasePath(dataDir));
    let station: SpawnedStation | undefined;
    const launch = async () => {
      station = await spawnStation(dataDir, {
        args: ["--port", "0"],
        env: { ...env, OPENGENIE_INSTANCE_ID: id },
        timeoutMs: 30_000,
      });
    };
    const self: ClusterInstance & { launch(): Promise<void> } = {
      id,
      dataDir,
      launch,
      get station() {
        if (!station) throw new Error(`instance ${id} is not running`);
        return station;
      },
      get url() {
        return self.station.info.httpUrl;
      },
      get wsUrl() {
        return self.url.replace(/^http/, "ws");
      },
      api: (path, init = {}) =>
        fetch(`${self.url}${path}`, {
          ...init,
          headers: {
            ...(init.body ? { "content-type": "application/json" } : {}),
            ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          },
        }),
      async kill9() {
        const s = self.station;
        s.proc.kill("SIGKILL");
        await s.proc.exited;
        station = undefined;
      },
      restart: launch,
      async stop() {
        if (!station) return;
        await station.terminate();
        station = undefined;
      },
      async metrics() {
        return (await fetch(`${self.url}/metrics`)).text();
      },
    };
    return self;
  }

  const instances = names.map(makeInstance) as (ClusterInstance & { launch(): Promise<void> })[];
  try {
    // The first one creates the schema; the others then start together.
    await instances[0]!.launch();
    await Promise.all(instances.slice(1).map((i) => i.launch()));
  } catch (err) {
    for (const i of instances) await i.stop().catch(() => undefined);
    await broker.stop();
    postgres?.stop();
    temp.remove();
    throw err;
  }

  /** An account on the shared database, and a token for it (valid on every instance). */
  async function userToken(
    username: string,
    role: string,
    on: ClusterInstance = instances[0]!,
  ): Promise<string> {
    const password = `${username}-password`;
    const added = await cli(
      instances[0]!.dataDir,
      ["user", "add", username, "--role", role, "--password-stdin"],
      `${password}\n`,
      env,
    );
    if (added.code !== 0) throw new Error(added.stderr);
    return login(username, on);
  }

  async function login(username: string, on: ClusterInstance = instances[0]!): Promise<string> {
    const res = await on.api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ username, password: `${username}-password` }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { accessToken: string }).accessToken;
  }

  return {
    stationId,
    broker,
    /** The private PostgreSQL cluster, when this harness started one (to restart it mid-test). */
    postgres,
    databaseUrl,
    instances: instances as ClusterInstance[],
    env,
    userToken,
    login,
    async stop() {
      await Promise.all(instances.map((i) => i.stop().catch(() => undefined)));
      await broker.stop();
      postgres?.stop();
      temp.remove();
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** The value of one metric line (`name{labels} value`) in a /metrics text, summed over matches. */
export function metricValue(text: string, name: string, labels = ""): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
    if (labels && !rest.includes(labels)) continue;
    total += Number(line.split(" ").at(-1));
  }
  return total;
}

/** Registers `count` devices of `type` through the first instance and starts a firmware-sim for each. */
export async function addSimDevices(
  cluster: Cluster,
  token: string,
  count: number,
  type: "light" | "sensor",
): Promise<{ ids: string[]; sims: SimulatedDevice[] }> {
  const ids: string[] = [];
  const sims: SimulatedDevice[] = [];
  for (let i = 0; i < count; i++) {
    const res = await cluster.instances[0]!.api("/api/devices", {
      method: "POST",
      token,
      body: JSON.stringify({ name: `${type} ${i}`, type }),
    });
    const created = createdDeviceSchema.parse(await res.json());
    ids.push(created.device.id);
    sims.push(simFor(created.credentials, type, { sensorIntervalMs: 600_000 }));
  }
  await Promise.all(sims.map((s) => s.start()));
  return { ids, sims };
}

/**
 * Every sim publishes `events` QoS 1 `device_event`s carrying `{seq}` 0…events-1, one per
 * `paceMs`; `published()` says how many went out so far.
 */
export function streamEvents(sims: SimulatedDevice[], events: number, paceMs: number) {
  let published = 0;
  const done = Promise.all(
    sims.map(async (sim) => {
      for (let seq = 0; seq < events; seq++) {
        await sim.publishEvent("device_event", { seq });
        published++;
        await Bun.sleep(paceMs);
      }
    }),
  ).then(() => undefined);
  return { done, published: () => published };
}

/** The `seq` of every `device_event` stored for a device, as `instance` lists them, all pages read. */
export async function storedEventSeqs(instance: ClusterInstance, token: string, deviceId: string) {
  const seqs: number[] = [];
  let before = "";
  for (;;) {
    const res = await instance.api(`/api/devices/${deviceId}/events?limit=500&before=${before}`, { token });
    const { events } = (await res.json()) as {
      events: { id: number; kind: string; data: { seq: number } }[];
    };
    for (const e of events) if (e.kind === "device_event") seqs.push(e.data.seq);
    if (events.length < 500) return seqs;
    before = String(events.at(-1)!.id);
  }
}
