#!/usr/bin/env bun
/**
 * Ingest bench: how many device state reports per second the station validates, merges,
 * queues for persistence and pushes to an app, against what a plain aedes broker forwards.
 *
 *   bun bench/ingest.ts [--devices 20] [--seconds 10] [--inflight 16]
 *
 * Station: N raw MQTT.js devices publish QoS 1 `{"state":{"seq","v"}}` as fast as PUBACKs
 * allow (at most --inflight unacknowledged each) to the embedded broker; ONE /ws subscriber
 * on `devices` counts `device.state` pushes. Baseline: the same publishers against a plain
 * aedes broker in its own process, ONE MQTT subscriber on `#` counting messages.
 * Target: station / raw >= 0.5. Prints; never fails on a missed target.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import {
  benchLifecycle,
  connected,
  connectRawDevice,
  mapPool,
  startBenchStation,
  startRawBroker,
  verdict,
} from "./bench-station.ts";

const TARGET_RATIO = 0.5;
const DRAIN_QUIET_MS = 1_000;
const DRAIN_MAX_MS = 15_000;

interface Publisher {
  client: MqttClient;
  topic: string;
}

interface PublishResult {
  /** Highest seq the broker acknowledged, per publisher. */
  lastSeq: number[];
  acked: number;
}

/** Publishes as fast as PUBACKs come back, at most `inflight` outstanding, until `until`. */
function publishUntil(publishers: Publisher[], inflight: number, until: number): Promise<PublishResult> {
  const lastSeq = publishers.map(() => 0);
  let acked = 0;
  const one = (p: Publisher, index: number) =>
    new Promise<void>((resolve) => {
      let seq = 0;
      let outstanding = 0;
      const pump = () => {
        while (outstanding < inflight && performance.now() < until) {
          const n = ++seq;
          outstanding++;
          const payload = `{"state":{"seq":${n},"v":${Math.random()}}}`;
          p.client.publish(p.topic, payload, { qos: 1 }, (err) => {
            outstanding--;
            if (!err) {
              acked++;
              if (n > lastSeq[index]!) lastSeq[index] = n;
            }
            pump();
          });
        }
        if (outstanding === 0) resolve();
      };
      pump();
    });
  return Promise.all(publishers.map(one)).then(() => ({ lastSeq, acked }));
}

/** Counts events in the measuring window and in total; `quiet()` resolves once they stop. */
function createCounter() {
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let inWindow = 0;
  let total = 0;
  let lastAt = performance.now();
  return {
    hit() {
      const now = performance.now();
      total++;
      lastAt = now;
      if (now >= windowStart && now < windowEnd) inWindow++;
    },
    window(start: number, end: number) {
      windowStart = start;
      windowEnd = end;
    },
    get inWindow() {
      return inWindow;
    },
    get total() {
      return total;
    },
    async quiet() {
      const started = performance.now();
      while (performance.now() - lastAt < DRAIN_QUIET_MS && performance.now() - started < DRAIN_MAX_MS)
        await Bun.sleep(100);
    },
  };
}

interface PhaseResult {
  rate: number;
  received: number;
  receivedTotal: number;
  acked: number;
  publishRate: number;
}

async function measure(
  publishers: Publisher[],
  counter: ReturnType<typeof createCounter>,
  seconds: number,
  inflight: number,
) {
  const start = performance.now();
  const end = start + seconds * 1000;
  counter.window(start, end);
  const result = await publishUntil(publishers, inflight, end);
  await counter.quiet();
  const phase: PhaseResult = {
    rate: counter.inWindow / seconds,
    received: counter.inWindow,
    receivedTotal: counter.total,
    acked: result.acked,
    publishRate: result.acked / seconds,
  };
  return { phase, lastSeq: result.lastSeq };
}

async function stationPhase(devices: number, seconds: number, inflight: number) {
  const life = benchLifecycle("ingest (station)", (seconds + 120) * 1000);
  try {
    const station = await startBenchStation();
    life.defer(() => station.stop());
    const creds = await station.createDevices(devices, "sensor");
    const raw = await mapPool(creds, 20, (c) => connectRawDevice(c, { type: "sensor" }));
    life.defer(() => Promise.all(raw.map((d) => d.client.endAsync(true))));

    const counter = createCounter();
    const ws = new WebSocket(`${station.httpUrl.replace(/^http/, "ws")}/ws?token=${station.token}`);
    life.defer(() => ws.close());
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.onerror = () => reject(new Error("/ws connection failed"));
      ws.onmessage = (event) => {
        const text = String(event.data);
        // A substring test, not JSON.parse: the bench process must not be the bottleneck.
        if (text.includes('"event":"device.state"')) counter.hit();
        else if (text.includes('"type":"welcome"'))
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { channel: "devices" } }));
        else if (text.includes('"id":"1"')) {
          if (text.includes('"type":"result"')) resolve();
          else reject(new Error(`subscribe failed: ${text}`));
        }
      };
    });
    await subscribed;

    const publishers = raw.map((d) => ({ client: d.client, topic: d.topic("state") }));
    const { phase, lastSeq } = await measure(publishers, counter, seconds, inflight);

    // The latest state per device as the station reports it, then as stored on disk.
    const { devices: listed } = await station.api<{ devices: { id: string; state: { seq?: number } }[] }>(
      "GET",
      "/api/devices",
    );
    const seqById = new Map(listed.map((d) => [d.id, d.state.seq]));
    const apiOk = creds.filter((c, i) => seqById.get(c.deviceId) === lastSeq[i]).length;
    await Promise.all(raw.map((d) => d.client.endAsync()));
    ws.close();
    const code = await station.terminate();
    if (code !== 0) console.warn(`  note: the station exited ${code} on SIGTERM`);
    const db = new Database(join(station.dataDir, "opengenie.db"), { readonly: true });
    const stored = new Map(
      db
        .query<{ device_id: string; state: string }, []>("SELECT device_id, state FROM device_state")
        .all()
        .map((r) => [r.device_id, (JSON.parse(r.state) as { seq?: number }).seq]),
    );
    db.close();
    const diskOk = creds.filter((c, i) => stored.get(c.deviceId) === lastSeq[i]).length;
    return { phase, apiOk, diskOk };
  } finally {
    await life.finish();
  }
}

async function rawPhase(devices: number, seconds: number, inflight: number) {
  const life = benchLifecycle("ingest (raw aedes)", (seconds + 60) * 1000);
  try {
    const broker = await startRawBroker();
    life.defer(() => broker.stop());
    const counter = createCounter();
    const subscriber = mqtt.connect(broker.url, { clientId: "bench-sub", reconnectPeriod: 0 });
    life.defer(() => subscriber.endAsync(true));
    await connected(subscriber);
    subscriber.on("message", () => counter.hit());
    await subscriber.subscribeAsync("#", { qos: 1 });

    const publishers = await mapPool(Array.from({ length: devices }), 20, async (_, i) => {
      const client = mqtt.connect(broker.url, { clientId: `bench-pub-${i}`, reconnectPeriod: 0 });
      life.defer(() => client.endAsync(true));
      await connected(client);
      return { client, topic: `station/raw/device/dev_${i}/state` };
    });
    const { phase } = await measure(publishers, counter, seconds, inflight);
    return phase;
  } finally {
    await life.finish();
  }
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      devices: { type: "string", default: "20" },
      seconds: { type: "string", default: "10" },
      inflight: { type: "string", default: "16" },
    },
  });
  const devices = Math.max(1, Number.parseInt(values.devices, 10) || 20);
  const seconds = Math.max(1, Number.parseFloat(values.seconds) || 10);
  const inflight = Math.max(1, Number.parseInt(values.inflight, 10) || 16);

  console.log(`ingest: ${devices} devices, QoS 1, ${inflight} in flight each, ${seconds} s per run`);
  console.log("measuring the station (embedded broker → device core → /ws push) …");
  const station = await stationPhase(devices, seconds, inflight);
  console.log("measuring a plain aedes broker (publishers → # subscriber) …");
  const raw = await rawPhase(devices, seconds, inflight);

  const ratio = station.phase.rate / raw.rate;
  const row = (label: string, p: PhaseResult) =>
    `${label.padEnd(22)} ${p.rate.toFixed(0).padStart(8)} msg/s received   ` +
    `${p.publishRate.toFixed(0).padStart(8)} msg/s acked by broker   (${p.received} in window, ${p.receivedTotal} total, ${p.acked} published)`;
  console.log(`\n${row("station (/ws pushes)", station.phase)}`);
  console.log(row("raw aedes (# sub)", raw));
  console.log(
    `station / raw: ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)})`,
  );
  console.log(
    `latest state persisted: ${station.apiOk}/${devices} devices report their last acknowledged seq via GET /api/devices, ` +
      `${station.diskOk}/${devices} in SQLite after a graceful stop`,
  );
}

await main();
