#!/usr/bin/env bun
/**
 * Command round-trip bench: `POST /api/devices/:id/commands?wait=5000` until the device
 * confirms, against a bare MQTT request/response through a plain aedes broker.
 *
 *   bun bench/command-rtt.ts [--count 1000] [--warmup 20]
 *
 * Station: one firmware-sim light; N sequential `toggle` commands, each HTTP request → MQTT
 * command → device → command/result → HTTP 200. Baseline: a requester publishes to `req`
 * and waits for the responder's publish on `res` (both QoS 1), N times.
 * Target: station p99 within 3× of raw p99. Prints; never fails on a missed target.
 */
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { brokerUrl, createSimulatedDevice } from "../firmware-sim/index.ts";
import {
  benchLifecycle,
  connected,
  percentile,
  startBenchStation,
  startRawBroker,
  verdict,
  withTimeout,
} from "./bench-station.ts";

const TARGET_P99_FACTOR = 3;
const WAIT_MS = 5000;

interface Timings {
  samples: number[];
  failures: string[];
}

async function time(count: number, warmup: number, once: () => Promise<void>): Promise<Timings> {
  const samples: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    try {
      await once();
      if (i >= warmup) samples.push(performance.now() - started);
    } catch (err) {
      if (i >= warmup) failures.push((err as Error).message);
    }
  }
  return { samples: samples.sort((a, b) => a - b), failures };
}

async function stationRtt(count: number, warmup: number): Promise<Timings> {
  const life = benchLifecycle("command-rtt (station)", (count + warmup) * WAIT_MS + 120_000);
  try {
    const station = await startBenchStation();
    life.defer(() => station.stop());
    const [creds] = await station.createDevices(1, "light");
    const light = createSimulatedDevice({
      url: brokerUrl(creds!),
      stationId: creds!.stationId,
      deviceId: creds!.deviceId,
      token: creds!.mqttPassword,
      type: "light",
    });
    life.defer(() => light.stop());
    await light.start();
    const url = `${station.httpUrl}/api/devices/${creds!.deviceId}/commands?wait=${WAIT_MS}`;
    const init = {
      method: "POST",
      headers: { authorization: `Bearer ${station.token}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "toggle", params: {} }),
    };
    return await time(count, warmup, async () => {
      const res = await fetch(url, init);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
    });
  } finally {
    await life.finish();
  }
}

async function rawRtt(count: number, warmup: number): Promise<Timings> {
  const life = benchLifecycle("command-rtt (raw aedes)", (count + warmup) * WAIT_MS + 60_000);
  try {
    const broker = await startRawBroker();
    life.defer(() => broker.stop());
    const requester = mqtt.connect(broker.url, { clientId: "bench-requester", reconnectPeriod: 0 });
    life.defer(() => requester.endAsync(true));
    const responder = mqtt.connect(broker.url, { clientId: "bench-responder", reconnectPeriod: 0 });
    life.defer(() => responder.endAsync(true));
    await Promise.all([connected(requester), connected(responder)]);
    responder.on("message", (_topic, payload) => {
      responder.publish("res", payload, { qos: 1 });
    });
    await responder.subscribeAsync("req", { qos: 1 });
    await requester.subscribeAsync("res", { qos: 1 });

    const waiting = new Map<string, () => void>();
    requester.on("message", (_topic, payload) => {
      const id = JSON.parse(payload.toString()).requestId as string;
      waiting.get(id)?.();
      waiting.delete(id);
    });
    let n = 0;
    return await time(count, warmup, async () => {
      const requestId = `r${++n}`;
      const answered = new Promise<void>((resolve) => waiting.set(requestId, resolve));
      requester.publish("req", JSON.stringify({ action: "toggle", requestId }), { qos: 1 });
      await withTimeout(answered, WAIT_MS, `no response to ${requestId}`).finally(() =>
        waiting.delete(requestId),
      );
    });
  } finally {
    await life.finish();
  }
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { count: { type: "string", default: "1000" }, warmup: { type: "string", default: "20" } },
  });
  const count = Math.max(1, Number.parseInt(values.count, 10) || 1000);
  const warmup = Math.max(0, Number.parseInt(values.warmup, 10) || 0);

  console.log(`command-rtt: ${count} sequential round trips each (after ${warmup} warm-up)`);
  console.log("measuring the station (POST …/commands?wait → firmware-sim light → 200) …");
  const station = await stationRtt(count, warmup);
  console.log("measuring a plain aedes broker (req → responder → res, QoS 1) …");
  const raw = await rawRtt(count, warmup);

  const row = (label: string, t: Timings) =>
    `${label.padEnd(26)} p50 ${fmt(percentile(t.samples, 50)).padStart(10)}   p99 ${fmt(percentile(t.samples, 99)).padStart(10)}   ` +
    `max ${fmt(t.samples.at(-1) ?? Number.NaN).padStart(10)}   ${t.samples.length} ok, ${t.failures.length} failed`;
  console.log(`\n${row("station (HTTP ?wait)", station)}`);
  console.log(row("raw aedes (req/res)", raw));
  for (const failure of new Set(station.failures)) console.log(`  station failure: ${failure}`);
  for (const failure of new Set(raw.failures)) console.log(`  raw failure: ${failure}`);
  const factor = percentile(station.samples, 99) / percentile(raw.samples, 99);
  console.log(
    `p99 station / raw: ${factor.toFixed(2)}×  (target ≤ ${TARGET_P99_FACTOR}×: ${verdict(factor <= TARGET_P99_FACTOR)})`,
  );
}

await main();
