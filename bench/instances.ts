#!/usr/bin/env bun
/**
 * Scale-out bench (docs/scale-out.md): device state reports per second that a station made of
 * 1, 2 and 3 instances processes (each message by one instance, every instance seeing all of
 * them), and each instance's memory, against what the same Mosquitto forwards to one plain
 * subscriber in the same run.
 *
 *   bun bench/instances.ts [--devices 20] [--seconds 8] [--inflight 8]
 *
 * N raw MQTT.js devices publish QoS 1 `{"state":{"seq","v"}}` as fast as PUBACKs allow. The
 * station's ingest is Σ over instances of (state reports merged − those applied from another
 * instance's facts), from the first publish until every instance has seen every report. On a
 * 2-core machine shared with the broker and the publishers, expect little gain: the point is the
 * shape, and that nothing is lost. Prints; never asserts.
 */
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { createdDeviceSchema } from "../src/protocol/index.ts";
import { metricValue, startCluster } from "../tests/helpers/cluster.ts";
import { benchLifecycle, connected, rssMb } from "./bench-station.ts";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "20" },
    seconds: { type: "string", default: "8" },
    inflight: { type: "string", default: "8" },
  },
});
const DEVICES = Number(values.devices);
const SECONDS = Number(values.seconds);
const INFLIGHT = Number(values.inflight);

interface Publisher {
  client: MqttClient;
  topic: string;
}

/** Publishes as fast as PUBACKs come back (at most `inflight` outstanding each) until `until`. */
function publishUntil(publishers: Publisher[], until: number): Promise<number> {
  let acked = 0;
  const one = (p: Publisher) =>
    new Promise<void>((resolve) => {
      let seq = 0;
      let outstanding = 0;
      const pump = () => {
        while (outstanding < INFLIGHT && performance.now() < until) {
          outstanding++;
          p.client.publish(p.topic, `{"state":{"seq":${++seq},"v":${Math.random()}}}`, { qos: 1 }, (err) => {
            outstanding--;
            if (!err) acked++;
            pump();
          });
        }
        if (outstanding === 0) resolve();
      };
      pump();
    });
  return Promise.all(publishers.map(one)).then(() => acked);
}

async function stationRun(instances: number) {
  const life = benchLifecycle(`instances(${instances})`, 180_000);
  const cluster = await startCluster({ instances });
  life.defer(() => cluster.stop());
  const admin = await cluster.userToken("bench", "admin");
  const publishers: Publisher[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const res = await cluster.instances[0]!.api("/api/devices", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ name: `bench ${i}`, type: "sensor" }),
    });
    const { device, credentials } = createdDeviceSchema.parse(await res.json());
    const client = mqtt.connect(cluster.broker.url, {
      clientId: device.id,
      username: device.id,
      password: credentials.mqttPassword,
      protocolVersion: 4,
    });
    life.defer(() => client.endAsync(true));
    await connected(client);
    publishers.push({ client, topic: `station/${cluster.stationId}/device/${device.id}/state` });
  }
  const read = async () =>
    Promise.all(
      cluster.instances.map(async (i) => {
        const text = await i.metrics();
        return {
          seen: metricValue(text, "opengenie_device_state_updates_total"),
          applied: metricValue(text, "opengenie_cluster_facts_applied_total", 'kind="device.state"'),
        };
      }),
    );
  const before = await read();
  const started = performance.now();
  const acked = await publishUntil(publishers, started + SECONDS * 1000);
  // Drained when every instance has seen every acknowledged report (or it stops moving).
  let after = await read();
  let last = -1;
  let lastChange = performance.now();
  let doneAt = performance.now();
  for (;;) {
    const minSeen = Math.min(...after.map((a, k) => a.seen - before[k]!.seen));
    if (minSeen >= acked) break;
    if (minSeen !== last) {
      last = minSeen;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 5_000) break;
    await Bun.sleep(100);
    after = await read();
    doneAt = performance.now();
  }
  const processed = after.map((a, k) => a.seen - before[k]!.seen - (a.applied - before[k]!.applied));
  const total = processed.reduce((x, y) => x + y, 0);
  const seconds = (doneAt - started) / 1000;
  const rss = cluster.instances.map((i) => rssMb(i.station.proc.pid));
  await life.finish();
  return { rate: total / seconds, acked, total, processed, rss };
}

/** What the same Mosquitto forwards from the same publishers to one plain subscriber. */
async function rawRun() {
  const life = benchLifecycle("raw mosquitto", 60_000);
  const cluster = await startCluster({ instances: 1 });
  life.defer(() => cluster.stop());
  const sub = mqtt.connect(cluster.broker.url, { protocolVersion: 4 });
  life.defer(() => sub.endAsync(true));
  await connected(sub);
  await sub.subscribeAsync("raw/#", { qos: 1 });
  let received = 0;
  let lastAt = performance.now();
  sub.on("message", () => {
    received++;
    lastAt = performance.now();
  });
  const publishers: Publisher[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const client = mqtt.connect(cluster.broker.url, { protocolVersion: 4 });
    life.defer(() => client.endAsync(true));
    await connected(client);
    publishers.push({ client, topic: `raw/${i}/state` });
  }
  const started = performance.now();
  const acked = await publishUntil(publishers, started + SECONDS * 1000);
  while (received < acked && performance.now() - lastAt < 2_000) await Bun.sleep(50);
  const rate = received / ((lastAt - started) / 1000);
  await life.finish();
  return { rate, acked, received };
}

const raw = await rawRun();
console.log(`raw Mosquitto → 1 subscriber: ${raw.rate.toFixed(0)} msg/s (${raw.received}/${raw.acked})`);
for (const n of [1, 2, 3]) {
  const r = await stationRun(n);
  console.log(
    `${n} instance${n > 1 ? "s" : " "}: ${r.rate.toFixed(0)} reports/s processed (${(r.rate / raw.rate).toFixed(2)} × raw), ` +
      `${r.total}/${r.acked} acknowledged reports processed, split ${r.processed.join("/")}, ` +
      `RSS ${r.rss.map((m) => `${m.toFixed(0)} MiB`).join(", ")}`,
  );
}
