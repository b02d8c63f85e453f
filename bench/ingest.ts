#!/usr/bin/env bun
/**
 * Ingest bench: how many device state reports per second the station takes in end to end,
 * against what a plain broker pipes from the same publishers to one subscriber.
 *
 *   bun bench/ingest.ts [--devices 20] [--seconds 10] [--inflight 16] [--baseline mosquitto|aedes]
 *
 * What is compared (both in the same run, same publishers: N raw MQTT.js clients publishing
 * QoS 1 `{"state":{"seq","v"}}` as fast as PUBACKs allow, at most --inflight unacknowledged
 * each, for --seconds):
 * - station: reports acknowledged by the embedded broker AND merged by the device core
 *   (`opengenie_device_state_updates_total` on /metrics must reach the acked count), divided by
 *   the time from the first publish until a `/ws` subscriber on `devices` has seen every
 *   device's last acknowledged seq. `/ws` state pushes coalesce to the latest per device
 *   (CONTRACT.md section 4), so pushes are NOT counted one per report (that was the bench's
 *   error before: it printed pushes/s, i.e. devices × I/O turns). Persistence is checked after
 *   a graceful stop: every device's last seq must be the row in SQLite.
 * - raw: messages a `#` subscriber (QoS 1) received, divided by the time from the first publish
 *   until the last one arrived, through Mosquitto (when installed) or a plain aedes broker.
 * Target: station / raw >= 0.8. Prints; never fails on a missed target.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { mosquittoPath, startMosquitto } from "../tests/helpers/mosquitto.ts";
import {
  benchLifecycle,
  connected,
  connectRawDevice,
  mapPool,
  startBenchStation,
  startRawBroker,
  verdict,
} from "./bench-station.ts";

const TARGET_RATIO = 0.8;
const DRAIN_MAX_MS = 20_000;
const POLL_MS = 50;

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

interface PhaseResult {
  /** Reports taken in end to end per second (see the header). */
  rate: number;
  acked: number;
  /** Reports the consumer took in: merged by the station, or received by the raw subscriber. */
  consumed: number;
  /** From the first publish until the consumer had everything, in ms. */
  elapsedMs: number;
  publishMs: number;
}

async function until(done: () => boolean | Promise<boolean>, maxMs: number) {
  const deadline = performance.now() + maxMs;
  while (!(await done()) && performance.now() < deadline) await Bun.sleep(POLL_MS);
}

async function stationPhase(devices: number, seconds: number, inflight: number) {
  const life = benchLifecycle("ingest (station)", (seconds + 120) * 1000);
  try {
    const station = await startBenchStation();
    life.defer(() => station.stop());
    const creds = await station.createDevices(devices, "sensor");
    const raw = await mapPool(creds, 20, (c) => connectRawDevice(c, { type: "sensor" }));
    life.defer(() => Promise.all(raw.map((d) => d.client.endAsync(true))));
    const index = new Map(creds.map((c, i) => [c.deviceId, i]));

    const merged = async () => {
      const text = await (
        await fetch(`${station.httpUrl}/metrics`, { headers: { authorization: `Bearer ${station.token}` } })
      ).text();
      const match = /^opengenie_device_state_updates_total (\d+)/m.exec(text);
      if (!match) throw new Error("no opengenie_device_state_updates_total on /metrics");
      return Number(match[1]);
    };

    // The latest seq each device's pushes carried, and when each arrived.
    const pushedSeq = creds.map(() => 0);
    const pushedAt = creds.map(() => 0);
    let pushes = 0;
    const ws = new WebSocket(`${station.httpUrl.replace(/^http/, "ws")}/ws?token=${station.token}`);
    life.defer(() => ws.close());
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.onerror = () => reject(new Error("/ws connection failed"));
      ws.onmessage = (event) => {
        const text = String(event.data);
        if (text.includes('"event":"device.state"')) {
          pushes++;
          const frame = JSON.parse(text) as { data: { deviceId: string; state: { seq?: number } } };
          const i = index.get(frame.data.deviceId);
          if (i === undefined) return;
          pushedSeq[i] = frame.data.state.seq ?? 0;
          pushedAt[i] = performance.now();
        } else if (text.includes('"type":"welcome"'))
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { channel: "devices" } }));
        else if (text.includes('"id":"1"')) {
          if (text.includes('"type":"result"')) resolve();
          else reject(new Error(`subscribe failed: ${text}`));
        }
      };
    });
    await subscribed;

    const mergedBefore = await merged();
    const publishers = raw.map((d) => ({ client: d.client, topic: d.topic("state") }));
    const start = performance.now();
    const { lastSeq, acked } = await publishUntil(publishers, inflight, start + seconds * 1000);
    const publishMs = performance.now() - start;
    const allPushed = () => lastSeq.every((seq, i) => pushedSeq[i] === seq);
    await until(allPushed, DRAIN_MAX_MS);
    let consumed = 0;
    await until(async () => {
      consumed = (await merged()) - mergedBefore;
      return consumed >= acked;
    }, DRAIN_MAX_MS);
    const pushedAll = allPushed();
    const elapsedMs = Math.max(...pushedAt) - start;
    const phase: PhaseResult = {
      rate: pushedAll && consumed >= acked ? acked / (elapsedMs / 1000) : 0,
      acked,
      consumed,
      elapsedMs,
      publishMs,
    };

    // The latest state per device as the station reports it, then as stored on disk.
    const { devices: listed } = await station.api<{ devices: { id: string; state: { seq?: number } }[] }>(
      "GET",
      "/api/devices",
    );
    const seqById = new Map(listed.map((d) => [d.id, d.state.seq]));
    const apiOk = creds.filter((c, i) => seqById.get(c.deviceId) === lastSeq[i]).length;
    const pushedOk = lastSeq.filter((seq, i) => pushedSeq[i] === seq).length;
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
    return { phase, apiOk, diskOk, pushedOk, pushes };
  } finally {
    await life.finish();
  }
}

async function rawPhase(baseline: "mosquitto" | "aedes", devices: number, seconds: number, inflight: number) {
  const life = benchLifecycle(`ingest (raw ${baseline})`, (seconds + 60) * 1000);
  try {
    const broker = baseline === "mosquitto" ? await startMosquitto() : await startRawBroker();
    life.defer(() => broker.stop());
    let received = 0;
    let lastAt = 0;
    const subscriber = mqtt.connect(broker.url, { clientId: "bench-sub", reconnectPeriod: 0 });
    life.defer(() => subscriber.endAsync(true));
    await connected(subscriber);
    subscriber.on("message", () => {
      received++;
      lastAt = performance.now();
    });
    await subscriber.subscribeAsync("#", { qos: 1 });

    const publishers = await mapPool(Array.from({ length: devices }), 20, async (_, i) => {
      const client = mqtt.connect(broker.url, { clientId: `bench-pub-${i}`, reconnectPeriod: 0 });
      life.defer(() => client.endAsync(true));
      await connected(client);
      return { client, topic: `station/raw/device/dev_${i}/state` };
    });
    const start = performance.now();
    const { acked } = await publishUntil(publishers, inflight, start + seconds * 1000);
    const publishMs = performance.now() - start;
    await until(() => received >= acked, DRAIN_MAX_MS);
    const elapsedMs = lastAt - start;
    const phase: PhaseResult = {
      rate: received / (elapsedMs / 1000),
      acked,
      consumed: received,
      elapsedMs,
      publishMs,
    };
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
      baseline: { type: "string" },
    },
  });
  const devices = Math.max(1, Number.parseInt(values.devices, 10) || 20);
  const seconds = Math.max(1, Number.parseFloat(values.seconds) || 10);
  const inflight = Math.max(1, Number.parseInt(values.inflight, 10) || 16);
  const baseline = values.baseline === "aedes" || !mosquittoPath() ? "aedes" : "mosquitto";

  console.log(
    `ingest: ${devices} devices, QoS 1, ${inflight} in flight each, ${seconds} s of publishing per run`,
  );
  console.log("measuring the station (embedded broker → validated, merged, queued for SQLite → /ws push) …");
  const station = await stationPhase(devices, seconds, inflight);
  console.log(`measuring a plain ${baseline} broker (publishers → # subscriber, QoS 1) …`);
  const raw = await rawPhase(baseline, devices, seconds, inflight);

  const ratio = station.phase.rate / raw.rate;
  const row = (label: string, p: PhaseResult, what: string) =>
    `${label.padEnd(18)} ${p.rate.toFixed(0).padStart(7)} reports/s end to end   ` +
    `(${p.acked} acked in ${(p.publishMs / 1000).toFixed(1)} s, ${p.consumed} ${what}, all in by ${(p.elapsedMs / 1000).toFixed(2)} s)`;
  console.log(`\n${row("station", station.phase, "merged")}`);
  console.log(row(`raw ${baseline}`, raw, "received"));
  console.log(
    `station / raw: ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)})`,
  );
  console.log(
    `latest state: ${station.pushedOk}/${devices} last acked seqs pushed on /ws (${station.pushes} pushes, coalesced per device), ` +
      `${station.apiOk}/${devices} via GET /api/devices, ${station.diskOk}/${devices} in SQLite after a graceful stop`,
  );
}

await main();
