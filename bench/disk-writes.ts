#!/usr/bin/env bun
/**
 * SD-card wear bench: bytes the station process makes the kernel write to disk (`write_bytes`
 * of /proc/<pid>/io: the database, its WAL and checkpoints, logs) per hour, for a home-sized
 * fleet at real cadence: 100 devices each reporting state every 10 s and an event every minute,
 * heartbeats every 30 s. Half are sensors whose temperature changes on most reports, half are
 * lights that report the same state again (a "still alive, nothing changed" report, as many
 * firmwares send on a timer).
 *
 *   bun bench/disk-writes.ts [--minutes 2] [--devices 100]
 *
 * The first 20 s after the fleet is online are left out (handshakes, first states), then
 * write_bytes is sampled over `--minutes` and scaled to an hour. Prints; never fails on a
 * missed target (benches print, tests assert).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  benchLifecycle,
  connectRawDevice,
  mapPool,
  type RawDevice,
  startBenchStation,
} from "./bench-station.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    devices: { type: "string", default: "100" },
  },
});
const MINUTES = Number(values.minutes);
const DEVICES = Number(values.devices);
const STATE_EVERY_MS = 10_000;
const EVENT_EVERY_MS = 60_000;
const HEARTBEAT_SEC = 30;
const WARMUP_MS = 20_000;

/** Bytes this process has caused to be sent to the block layer so far. */
function writeBytes(pid: number): number {
  const match = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
  if (!match) throw new Error(`no write_bytes in /proc/${pid}/io`);
  return Number(match[1]);
}

function fsOf(path: string): string {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f.length > 2 && path.startsWith(f[1]!))
    .sort((a, b) => b[1]!.length - a[1]!.length);
  const m = mounts[0];
  return m ? `${m[2]} on ${m[1]} (${m[0]})` : "unknown";
}

async function main() {
  const life = benchLifecycle("disk-writes", (MINUTES * 60 + 180) * 1000);
  const station = await startBenchStation();
  life.defer(() => station.stop());
  console.log(
    `disk-writes: ${DEVICES} devices, state every ${STATE_EVERY_MS / 1000} s (half changing, half repeated), ` +
      `an event a minute, heartbeat ${HEARTBEAT_SEC} s; ${MINUTES} min measured after ${WARMUP_MS / 1000} s warm-up`,
  );
  console.log(`data dir ${station.dataDir}: ${fsOf(station.dataDir)}`);

  const half = Math.ceil(DEVICES / 2);
  const sensors = await station.createDevices(half, "sensor");
  const lights = await station.createDevices(DEVICES - half, "light");
  const devices: RawDevice[] = [];
  life.defer(() => {
    for (const d of devices) d.client.end(true);
  });
  await mapPool([...sensors, ...lights], 20, async (creds, i) => {
    devices[i] = await connectRawDevice(creds, {
      type: i < half ? "sensor" : "light",
      heartbeatSec: HEARTBEAT_SEC,
    });
  });

  let reports = 0;
  let events = 0;
  const timers: Timer[] = [];
  life.defer(() => {
    for (const t of timers) clearInterval(t);
  });
  devices.forEach((d, i) => {
    const sensor = i < half;
    let temperature = 20 + (i % 5);
    let seq = 0;
    const offset = (i / devices.length) * STATE_EVERY_MS;
    const state = () => {
      seq++;
      temperature = Math.round((temperature + (Math.random() - 0.5) * 0.4) * 10) / 10;
      const body = sensor
        ? { state: { temperature, humidity: 40 + (seq % 3) } }
        : { state: { power: "on", brightness: 60 } };
      d.client.publish(d.topic("state"), JSON.stringify(body), { qos: 1 });
      reports++;
    };
    const event = () => {
      d.client.publish(
        d.topic("event"),
        JSON.stringify({ event: "device_event", data: { button: "short", n: seq } }),
        { qos: 1 },
      );
      events++;
    };
    const heartbeat = () => d.client.publish(d.topic("heartbeat"), '{"status":"online"}', { qos: 1 });
    setTimeout(() => {
      timers.push(setInterval(state, STATE_EVERY_MS));
      timers.push(setInterval(heartbeat, HEARTBEAT_SEC * 1000));
      state();
    }, offset);
    setTimeout(
      () => {
        timers.push(setInterval(event, EVENT_EVERY_MS));
        event();
      },
      (i / devices.length) * EVENT_EVERY_MS,
    );
  });

  await Bun.sleep(WARMUP_MS);
  const start = { bytes: writeBytes(station.pid), at: performance.now(), reports, events };
  const measureMs = MINUTES * 60_000;
  for (let elapsed = 0; elapsed < measureMs; elapsed += 30_000) {
    await Bun.sleep(Math.min(30_000, measureMs - elapsed));
    const mb = (writeBytes(station.pid) - start.bytes) / 1e6;
    console.log(`  ${Math.round((performance.now() - start.at) / 1000)} s: ${mb.toFixed(2)} MB written`);
  }
  const seconds = (performance.now() - start.at) / 1000;
  const bytes = writeBytes(station.pid) - start.bytes;
  const nReports = reports - start.reports;
  const nEvents = events - start.events;
  const perHour = (bytes / seconds) * 3600;
  console.log(
    `\n${nReports} state reports and ${nEvents} events in ${seconds.toFixed(0)} s: ` +
      `${(bytes / 1e6).toFixed(2)} MB written, ${(perHour / 1e6).toFixed(1)} MB/hour ` +
      `(${((perHour * 24) / 1e9).toFixed(2)} GB/day), ${Math.round(bytes / Math.max(1, nReports + nEvents))} bytes per message`,
  );
  await life.finish();
}

await main();
