#!/usr/bin/env bun
/**
 * Fleet bench: the station's memory with a house-sized fleet connected and heartbeating.
 *
 *   bun bench/fleet.ts [--devices 1000] [--heartbeat-sec 5] [--settle-sec 20] [--concurrency 50]
 *
 * Registers N devices through POST /api/devices in parallel batches, connects each as a raw
 * MQTT.js client (own credentials, last will, subscribed to its handshake/ack and command),
 * handshakes with a short heartbeatSec and heartbeats on that period. Once GET /api/devices
 * shows all of them online, waits --settle-sec and reads the station's VmRSS.
 * Target: under 150 MB. Prints; never fails on a missed target.
 */
import { parseArgs } from "node:util";
import {
  benchLifecycle,
  connectRawDevice,
  mapPool,
  openFilesLimit,
  type RawDevice,
  startBenchStation,
  verdict,
} from "./bench-station.ts";

const TARGET_RSS_MB = 150;
const ONLINE_TIMEOUT_MS = 180_000;
const IDLE_MS = 2_000;
/** Sockets of our own beside the devices': stdio, the HTTP client, the station's pipes. */
const FD_HEADROOM = 64;

interface Listed {
  devices: { id: string; online: boolean }[];
}

async function onlineCount(station: Awaited<ReturnType<typeof startBenchStation>>, ids: Set<string>) {
  const { devices } = await station.api<Listed>("GET", "/api/devices");
  return devices.filter((d) => ids.has(d.id) && d.online).length;
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      devices: { type: "string", default: "1000" },
      "heartbeat-sec": { type: "string", default: "5" },
      "settle-sec": { type: "string", default: "20" },
      concurrency: { type: "string", default: "50" },
    },
  });
  const count = Math.max(1, Number.parseInt(values.devices, 10) || 1000);
  const heartbeatSec = Math.max(1, Number.parseInt(values["heartbeat-sec"], 10) || 5);
  const settleSec = Math.max(0, Number.parseFloat(values["settle-sec"]) || 0);
  const concurrency = Math.max(1, Number.parseInt(values.concurrency, 10) || 50);

  const limit = await openFilesLimit();
  console.log(
    `fleet: ${count} devices, heartbeat every ${heartbeatSec} s, RSS after all online + ${settleSec} s; ` +
      `this process may open ${limit} files (ulimit -n)`,
  );
  if (limit < count + FD_HEADROOM) {
    console.log(
      `  ${count} device sockets need ulimit -n ≥ ${count + FD_HEADROOM}; run \`ulimit -n ${Math.max(4096, count * 2)}\` ` +
        "in this shell first (the station raises its own limit)",
    );
    return;
  }

  const life = benchLifecycle("fleet", ONLINE_TIMEOUT_MS + settleSec * 1000 + 300_000);
  try {
    const station = await startBenchStation();
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
    life.defer(() => {
      for (const timer of timers) clearInterval(timer);
      return Promise.all(connected.map((d) => d.client.endAsync(true)));
    });
    started = performance.now();
    let failures = 0;
    let firstError: string | undefined;
    await mapPool(creds, concurrency, async (c) => {
      try {
        const device = await connectRawDevice(c, { type: "sensor", heartbeatSec });
        connected.push(device);
        // A random phase spreads N heartbeats over the period, like devices booted at random.
        const beat = () => device.client.publish(device.topic("heartbeat"), heartbeat, { qos: 1 });
        const phase = setTimeout(
          () => {
            beat();
            timers.push(setInterval(beat, heartbeatSec * 1000));
          },
          Math.random() * heartbeatSec * 1000,
        );
        timers.push(phase);
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
    const onlineMs = performance.now() - started;

    let peakRss = 0;
    const settleEnd = performance.now() + settleSec * 1000;
    while (performance.now() < settleEnd) {
      peakRss = Math.max(peakRss, station.rssMb());
      await Bun.sleep(1000);
    }
    const rss = station.rssMb();
    peakRss = Math.max(peakRss, rss);
    const stillOnline = await onlineCount(station, ids);

    console.log(
      `\nregistered ${count} devices in ${(createMs / 1000).toFixed(1)} s (POST /api/devices, 16 at a time)`,
    );
    console.log(
      `connected + handshaked ${connected.length}/${count} in ${(connectMs / 1000).toFixed(1)} s (${concurrency} at a time); ` +
        `${online}/${ids.size} online after ${(onlineMs / 1000).toFixed(1)} s; ${stillOnline}/${ids.size} online after ${settleSec} s more`,
    );
    console.log(`station RSS idle (no devices)       ${idleRss.toFixed(1).padStart(7)} MB`);
    console.log(`station RSS before devices connect  ${registeredRss.toFixed(1).padStart(7)} MB`);
    console.log(
      `station RSS ${settleSec} s after all online  ${rss.toFixed(1).padStart(7)} MB  (peak ${peakRss.toFixed(1)} MB)`,
    );
    console.log(
      `per connected device: ${(((rss - registeredRss) * 1024) / Math.max(1, connected.length)).toFixed(1)} KB; ` +
        `target < ${TARGET_RSS_MB} MB: ${verdict(rss < TARGET_RSS_MB)}`,
    );
  } finally {
    await life.finish();
  }
}

await main();
