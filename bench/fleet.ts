#!/usr/bin/env bun
/**
 * Fleet bench: the station's memory and responsiveness with a house-sized fleet connected.
 *
 *   bun bench/fleet.ts [--devices 1000,5000] [--heartbeat-sec 5] [--state-sec 10] [--settle-sec 20]
 *                      [--concurrency 50] [--station compiled,source]
 *
 * `--station`: which station runs, each on its own: `compiled` is dist/opengenie-linux-<arch>
 * (what install.sh installs; rebuilt first when stale), `source` is `bun bin/opengenie.ts`.
 * For each device count, a fresh station: registers N devices through POST /api/devices,
 * connects each as a raw MQTT.js client (own credentials, last will, subscribed to its
 * handshake/ack and command), handshakes, then heartbeats every --heartbeat-sec and reports
 * state (`{"state":{"seq","temperature"}}`) every --state-sec, each on a random phase. Once
 * GET /api/devices shows all of them online, it waits --settle-sec while timing GET
 * /api/health every 50 ms (p99 under that load), then reads the station's VmRSS.
 * Target: 1,000 devices in ≤ 100 MB RSS; larger fleets are measured and reported.
 *
 * Open files: the bench holds one socket per device, so it needs `ulimit -n` ≥ N + 200. When
 * the soft limit is lower it re-runs itself under `sh -c 'ulimit -n …'` (up to the hard limit;
 * raising the hard limit needs root: /etc/security/limits.conf or systemd's LimitNOFILE). The
 * station raises its own limit the same way (bench-station.ts). Prints; never fails on a target.
 */
import { parseArgs } from "node:util";
import { hostBinary } from "../build.ts";
import {
  benchLifecycle,
  connectRawDevice,
  mapPool,
  openFilesLimit,
  percentile,
  type RawDevice,
  startBenchStation,
  verdict,
} from "./bench-station.ts";

const TARGET_DEVICES = 1000;
const TARGET_RSS_MB = 100;
const ONLINE_TIMEOUT_MS = 300_000;
const IDLE_MS = 2_000;
const HEALTH_EVERY_MS = 50;
/** Sockets of our own beside the devices': stdio, the HTTP client, the station's pipes. */
const FD_HEADROOM = 200;
const REEXEC_ENV = "OPENGENIE_BENCH_FLEET_REEXEC";

interface Listed {
  devices: { id: string; online: boolean }[];
}

type StationKind = "compiled" | "source";

interface Row {
  station: StationKind;
  count: number;
  connected: number;
  online: number;
  stillOnline: number;
  createMs: number;
  connectMs: number;
  idleRss: number;
  registeredRss: number;
  rss: number;
  peakRss: number;
  healthP50: number;
  healthP99: number;
  healthFailed: number;
  statesSent: number;
}

async function onlineCount(station: Awaited<ReturnType<typeof startBenchStation>>, ids: Set<string>) {
  const { devices } = await station.api<Listed>("GET", "/api/devices");
  return devices.filter((d) => ids.has(d.id) && d.online).length;
}

async function fleet(
  kind: StationKind,
  count: number,
  opts: { heartbeatSec: number; stateSec: number; settleSec: number; concurrency: number },
): Promise<Row> {
  const life = benchLifecycle(`fleet ${count}`, ONLINE_TIMEOUT_MS + opts.settleSec * 1000 + 300_000);
  try {
    const station = await startBenchStation(kind === "compiled" ? { binary: await compiledBinary() } : {});
    life.defer(() => station.stop());
    await Bun.sleep(IDLE_MS);
    const idleRss = station.rssMb();

    let started = performance.now();
    const creds = await station.createDevices(count, "sensor", { concurrency: 16, namePrefix: "fleet" });
    const createMs = performance.now() - started;
    await Bun.sleep(IDLE_MS);
    const registeredRss = station.rssMb();

    const heartbeat = JSON.stringify({ status: "online" });
    const timers: Timer[] = [];
    const connected: RawDevice[] = [];
    let statesSent = 0;
    life.defer(() => {
      for (const timer of timers) clearInterval(timer);
      return Promise.all(connected.map((d) => d.client.endAsync(true)));
    });
    // A random phase spreads N devices over each period, like devices booted at random.
    const every = (periodSec: number, fn: () => void) => {
      timers.push(
        setTimeout(
          () => {
            fn();
            timers.push(setInterval(fn, periodSec * 1000));
          },
          Math.random() * periodSec * 1000,
        ),
      );
    };
    started = performance.now();
    let failures = 0;
    let firstError: string | undefined;
    await mapPool(creds, opts.concurrency, async (c) => {
      try {
        const device = await connectRawDevice(c, { type: "sensor", heartbeatSec: opts.heartbeatSec });
        connected.push(device);
        every(opts.heartbeatSec, () =>
          device.client.publish(device.topic("heartbeat"), heartbeat, { qos: 1 }),
        );
        let seq = 0;
        every(opts.stateSec, () => {
          statesSent++;
          const state = { seq: ++seq, temperature: Math.round(150 + Math.random() * 100) / 10 };
          device.client.publish(device.topic("state"), JSON.stringify({ state }), { qos: 1 });
        });
      } catch (err) {
        failures++;
        firstError ??= (err as Error).message;
      }
    });
    const connectMs = performance.now() - started;
    if (failures > 0) console.log(`  ${failures} devices failed to connect; first: ${firstError}`);

    const ids = new Set(connected.map((d) => d.creds.deviceId));
    let online = await onlineCount(station, ids);
    const deadline = performance.now() + ONLINE_TIMEOUT_MS;
    while (online < ids.size && performance.now() < deadline) {
      await Bun.sleep(500);
      online = await onlineCount(station, ids);
    }

    // Settle while timing /api/health, one request at a time, as a monitor would.
    let peakRss = 0;
    let lastRssAt = 0;
    const health: number[] = [];
    let healthFailed = 0;
    const settleEnd = performance.now() + opts.settleSec * 1000;
    while (performance.now() < settleEnd) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${station.httpUrl}/api/health`);
        await res.arrayBuffer();
        if (res.status === 200) health.push(performance.now() - t0);
        else healthFailed++;
      } catch {
        healthFailed++;
      }
      if (performance.now() - lastRssAt >= 1000) {
        peakRss = Math.max(peakRss, station.rssMb());
        lastRssAt = performance.now();
      }
      await Bun.sleep(HEALTH_EVERY_MS);
    }
    const rss = station.rssMb();
    peakRss = Math.max(peakRss, rss);
    const stillOnline = await onlineCount(station, ids);
    health.sort((a, b) => a - b);
    return {
      station: kind,
      count,
      connected: connected.length,
      online,
      stillOnline,
      createMs,
      connectMs,
      idleRss,
      registeredRss,
      rss,
      peakRss,
      healthP50: percentile(health, 50),
      healthP99: percentile(health, 99),
      healthFailed,
      statesSent,
    };
  } finally {
    await life.finish();
  }
}

/** The release binary in dist/ for this machine, built first when a source is newer. */
async function compiledBinary(): Promise<string> {
  const binary = await hostBinary((line) => console.log(`  ${line}`));
  if (!binary) throw new Error(`no opengenie binary runs on ${process.platform}-${process.arch}`);
  return binary;
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      devices: { type: "string", default: "1000,5000" },
      "heartbeat-sec": { type: "string", default: "5" },
      "state-sec": { type: "string", default: "10" },
      "settle-sec": { type: "string", default: "20" },
      concurrency: { type: "string", default: "50" },
      station: { type: "string", default: "compiled,source" },
    },
  });
  const kinds = values.station.split(",").filter((k): k is StationKind => k === "compiled" || k === "source");
  const counts = values.devices
    .split(",")
    .map((v) => Number.parseInt(v, 10))
    .filter((v) => v > 0);
  const opts = {
    heartbeatSec: Math.max(1, Number.parseInt(values["heartbeat-sec"], 10) || 5),
    stateSec: Math.max(1, Number.parseInt(values["state-sec"], 10) || 10),
    settleSec: Math.max(0, Number.parseFloat(values["settle-sec"]) || 0),
    concurrency: Math.max(1, Number.parseInt(values.concurrency, 10) || 50),
  };

  const need = Math.max(...counts) + FD_HEADROOM;
  const limit = await openFilesLimit();
  if (limit < need) {
    if (process.env[REEXEC_ENV]) {
      console.log(
        `fleet: ${need} open files needed, the hard limit allows ${limit}; raise it (limits.conf, LimitNOFILE) or pass fewer --devices`,
      );
      return;
    }
    console.log(
      `fleet: raising this process's open-files limit from ${limit} to ${need} (ulimit -n) and re-running`,
    );
    const proc = Bun.spawn(
      [
        "sh",
        "-c",
        `ulimit -n ${need} || ulimit -n "$(ulimit -Hn)"; exec "$@"`,
        "sh",
        process.execPath,
        ...process.argv.slice(1),
      ],
      { stdio: ["inherit", "inherit", "inherit"], env: { ...process.env, [REEXEC_ENV]: "1" } },
    );
    process.exitCode = await proc.exited;
    return;
  }

  console.log(
    `fleet: ${counts.join(", ")} devices; heartbeat every ${opts.heartbeatSec} s, state every ${opts.stateSec} s; ` +
      `RSS after all online + ${opts.settleSec} s, /api/health timed every ${HEALTH_EVERY_MS} ms meanwhile; ulimit -n ${limit}`,
  );
  const rows: Row[] = [];
  for (const kind of kinds)
    for (const count of counts) {
      console.log(`measuring ${count} devices, ${kind} station …`);
      const row = await fleet(kind, count, opts);
      rows.push(row);
      console.log(
        `  registered in ${(row.createMs / 1000).toFixed(1)} s; connected + handshaked ${row.connected}/${count} in ` +
          `${(row.connectMs / 1000).toFixed(1)} s (${opts.concurrency} at a time); ${row.online} online, ` +
          `${row.stillOnline} still online after ${opts.settleSec} s; ${row.statesSent} state reports sent`,
      );
    }
  console.log(
    "\nstation   devices   RSS idle   registered   all online   peak      per device   /api/health p50 / p99 (failed)",
  );
  for (const r of rows) {
    const perDevice = ((r.rss - r.registeredRss) * 1024) / Math.max(1, r.connected);
    console.log(
      `${r.station.padEnd(8)}  ${String(r.count).padStart(7)}   ${r.idleRss.toFixed(1).padStart(5)} MB   ${r.registeredRss.toFixed(1).padStart(7)} MB   ` +
        `${r.rss.toFixed(1).padStart(7)} MB   ${r.peakRss.toFixed(1).padStart(5)} MB   ${perDevice.toFixed(1).padStart(6)} KB   ` +
        `${r.healthP50.toFixed(1)} / ${r.healthP99.toFixed(1)} ms (${r.healthFailed})`,
    );
  }
  for (const target of rows.filter((r) => r.count === TARGET_DEVICES))
    console.log(
      `${TARGET_DEVICES} devices, ${target.station} station: ${target.rss.toFixed(1)} MB; target ≤ ${TARGET_RSS_MB} MB: ` +
        `${verdict(target.rss <= TARGET_RSS_MB)} (of it idle, no devices: ${target.idleRss.toFixed(1)} MB)`,
    );
}

await main();
