#!/usr/bin/env bun
/**
 * Burst bench: whether the station gives memory back after a burst of large state reports.
 *
 *   bun bench/burst.ts [--devices 50] [--reports 5000] [--kib 8] [--inflight 8] [--after-sec 10]
 *
 * N raw MQTT.js devices connect and handshake; after a few idle seconds the station's VmRSS is
 * read ("before"). Then they publish --reports state reports of --kib KiB each in total
 * (default 5,000 × 8 KiB = 40 MB; `{"state":{"seq","blob"}}`, QoS 1, at most --inflight
 * unacknowledged per device), spread evenly over the devices. RSS is sampled every 100 ms from
 * the first publish ("peak"), and read --after-sec seconds after the last PUBACK ("after").
 * All reports must be merged (opengenie_device_state_updates_total) and the last seq of each
 * device in GET /api/devices. Target: after − before ≤ 20 MB. Prints; never fails on a target.
 */
import { parseArgs } from "node:util";
import { benchLifecycle, connectRawDevice, mapPool, startBenchStation, verdict } from "./bench-station.ts";

const TARGET_MB = 20;
const IDLE_MS = 3_000;

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      devices: { type: "string", default: "50" },
      reports: { type: "string", default: "5000" },
      kib: { type: "string", default: "8" },
      inflight: { type: "string", default: "8" },
      "after-sec": { type: "string", default: "10" },
    },
  });
  const devices = Math.max(1, Number.parseInt(values.devices, 10) || 50);
  const reports = Math.max(devices, Number.parseInt(values.reports, 10) || 5000);
  const kib = Math.max(1, Number.parseFloat(values.kib) || 8);
  const inflight = Math.max(1, Number.parseInt(values.inflight, 10) || 8);
  const afterSec = Math.max(0, Number.parseFloat(values["after-sec"]) || 10);
  const life = benchLifecycle("burst", 300_000);
  try {
    console.log(
      `burst: ${reports} state reports of ${kib} KiB (${((reports * kib) / 1024).toFixed(0)} MiB) from ${devices} devices, ` +
        `QoS 1, ${inflight} in flight each; RSS before, peak, and ${afterSec} s after the last PUBACK`,
    );
    const station = await startBenchStation();
    life.defer(() => station.stop());
    const creds = await station.createDevices(devices, "sensor");
    const raw = await mapPool(creds, 20, (c) => connectRawDevice(c, { type: "sensor" }));
    life.defer(() => Promise.all(raw.map((d) => d.client.endAsync(true))));
    const merged = async () => {
      const text = await (
        await fetch(`${station.httpUrl}/metrics`, { headers: { authorization: `Bearer ${station.token}` } })
      ).text();
      return Number(/^opengenie_device_state_updates_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    };
    await Bun.sleep(IDLE_MS);
    const mergedBefore = await merged();
    await Bun.sleep(IDLE_MS);
    const before = station.rssMb();

    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, station.rssMb());
    }, 100);
    life.defer(() => clearInterval(sampler));
    const blob = "x".repeat(Math.round(kib * 1024) - 40);
    const perDevice = Math.floor(reports / devices);
    const lastSeq = raw.map((_, i) => perDevice + (i < reports % devices ? 1 : 0));
    const started = performance.now();
    await Promise.all(
      raw.map(
        (d, i) =>
          new Promise<void>((resolve, reject) => {
            let seq = 0;
            let outstanding = 0;
            const pump = () => {
              while (outstanding < inflight && seq < lastSeq[i]!) {
                outstanding++;
                const payload = `{"state":{"seq":${++seq},"blob":"${blob}"}}`;
                d.client.publish(d.topic("state"), payload, { qos: 1 }, (err) => {
                  outstanding--;
                  if (err) reject(err);
                  else pump();
                });
              }
              if (outstanding === 0 && seq === lastSeq[i]) resolve();
            };
            pump();
          }),
      ),
    );
    const publishMs = performance.now() - started;
    const deadline = performance.now() + afterSec * 1000;
    while (performance.now() < deadline) await Bun.sleep(100);
    clearInterval(sampler);
    const after = station.rssMb();
    peak = Math.max(peak, after);
    const mergedCount = (await merged()) - mergedBefore;
    const { devices: listed } = await station.api<{ devices: { id: string; state: { seq?: number } }[] }>(
      "GET",
      "/api/devices",
    );
    const seqById = new Map(listed.map((d) => [d.id, d.state.seq]));
    const latest = creds.filter((c, i) => seqById.get(c.deviceId) === lastSeq[i]).length;

    console.log(
      `\npublished and acked in ${(publishMs / 1000).toFixed(1)} s; ${mergedCount}/${reports} merged; ` +
        `latest seq of ${latest}/${devices} devices in GET /api/devices`,
    );
    console.log(
      `station RSS before ${before.toFixed(1)} MB   peak ${peak.toFixed(1)} MB   ${afterSec} s after ${after.toFixed(1)} MB`,
    );
    console.log(
      `after − before: ${(after - before).toFixed(1)} MB  (target ≤ ${TARGET_MB} MB: ${verdict(after - before <= TARGET_MB)}); ` +
        `peak − before: ${(peak - before).toFixed(1)} MB`,
    );
  } finally {
    await life.finish();
  }
}

await main();
