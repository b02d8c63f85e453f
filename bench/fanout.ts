#!/usr/bin/env bun
/**
 * Fan-out bench: how many `device.state` pushes per second the station delivers to many app
 * sockets, against Bun's own topic publish to as many sockets.
 *
 *   bun bench/fanout.ts [--clients 1000] [--seconds 10] [--interval-ms 10] [--sample-clients 100]
 *
 * Station: ONE sensor on `/ws/iot` (a child process, so its timer does not compete with the
 * clients) reports `{"state":{"seq","sentAt"}}` every interval; N `/ws` clients subscribed to
 * `devices` count the pushes. Baseline: bench/raw-fanout-server.ts, where every socket is
 * subscribed to a topic and a timer `server.publish`es a push of the same shape and size.
 * Both runs use the same clients and measurements: delivered pushes/s (within the publishing
 * window), how many of the expected pushes arrived (state pushes to a slow client may
 * coalesce), and delivery latency (receive − sentAt, Date.now() in both processes) over every
 * push to the first --sample-clients clients.
 * Target: station / raw delivered rate >= 0.5. Prints; never fails on a missed target.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  benchLifecycle,
  cpuSeconds,
  openFilesLimit,
  percentile,
  spawnBenchChild,
  startBenchStation,
  verdict,
  withTimeout,
} from "./bench-station.ts";
import { paced } from "./raw-fanout-server.ts";

const TARGET_RATIO = 0.5;
const CONNECT_BATCH = 100;
/** App sockets per user: under the station's cap of 64 per user, which the bench keeps. */
const SOCKETS_PER_USER = 50;
const CONNECT_TIMEOUT_MS = 15_000;
/** Sockets and files besides the clients: station/raw server, device, fetches, stdio, Bun's own. */
const FD_HEADROOM = 200;
/** After connecting, before publishing: lets the connection burst's garbage and timers settle. */
const SETTLE_MS = 1_000;
const DRAIN_QUIET_MS = 1_000;
const DRAIN_MAX_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

const SUBSCRIBE = JSON.stringify({ id: "1", type: "subscribe", payload: { channel: "devices" } });
const STATE_EVENT = '"event":"device.state"';
const DROPPED_EVENT = '"event":"dropped"';

interface Options {
  clients: number;
  seconds: number;
  intervalMs: number;
  sampleClients: number;
}

interface PhaseResult {
  clients: number;
  published: number;
  /** Pushes received by all clients while the publisher ran. */
  inWindow: number;
  /** Pushes received in all, including the drain after the run. */
  received: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Publisher → server intake (`at` − sentAt) at client 0: 0 for the raw server. */
  ingestP50: number;
  ingestP99: number;
  /** Clients whose last push carried the last published seq. */
  gotLast: number;
  droppedNotices: number;
  unexpectedCloses: number;
  serverCpu: number;
  benchCpu: number;
  /** Busy share of all cores (kernel network work included). */
  machineCpu: number;
}

/** Reads a non-negative integer right after `key` in `text`, or -1. */
function intAfter(text: string, key: string): number {
  const at = text.indexOf(key);
  if (at < 0) return -1;
  let n = 0;
  for (let i = at + key.length; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return n;
}

/** What every client counts; the hot path uses substring tests, not JSON.parse. */
function createAudience(clients: number, sampleClients: number) {
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let inWindow = 0;
  let received = 0;
  let droppedNotices = 0;
  let unexpectedCloses = 0;
  let lastAt = Date.now();
  const lastSeq = new Float64Array(clients);
  const latencies: number[] = [];
  const ingest: number[] = [];
  return {
    hit(client: number, text: string) {
      if (text.indexOf(STATE_EVENT) < 0) {
        if (text.indexOf(DROPPED_EVENT) >= 0) droppedNotices++;
        return;
      }
      const now = Date.now();
      received++;
      lastAt = now;
      if (now >= windowStart && now < windowEnd) inWindow++;
      const seq = intAfter(text, '"seq":');
      if (seq > lastSeq[client]!) lastSeq[client] = seq;
      if (client < sampleClients) {
        const sentAt = intAfter(text, '"sentAt":');
        latencies.push(now - sentAt);
        // `at` is when the server took the state in (the station's clock.now()).
        if (client === 0) ingest.push(intAfter(text, '"at":') - sentAt);
      }
    },
    closed() {
      unexpectedCloses++;
    },
    window(start: number, end: number) {
      windowStart = start;
      windowEnd = end;
    },
    async quiet() {
      const started = Date.now();
      while (Date.now() - lastAt < DRAIN_QUIET_MS && Date.now() - started < DRAIN_MAX_MS)
        await Bun.sleep(100);
    },
    summary(published: number) {
      const sorted = latencies.sort((a, b) => a - b);
      const ingestSorted = ingest.sort((a, b) => a - b);
      return {
        ingestP50: percentile(ingestSorted, 50),
        ingestP99: percentile(ingestSorted, 99),
        inWindow,
        received,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? Number.NaN,
        samples: sorted.length,
        gotLast: lastSeq.filter((s) => s === published).length,
        droppedNotices,
        unexpectedCloses,
      };
    },
  };
}

type Audience = ReturnType<typeof createAudience>;

/** One app client: waits for the welcome, subscribes to `devices`, resolves on the result. */
function connectClient(url: string, index: number, audience: Audience): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let ready = false;
    const fail = (why: string) => {
      if (ready) return;
      clearTimeout(timer);
      ws.close();
      reject(new Error(`client ${index}: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`not subscribed within ${CONNECT_TIMEOUT_MS} ms`),
      CONNECT_TIMEOUT_MS,
    );
    ws.onmessage = (event) => {
      const text = String(event.data);
      if (text.includes('"type":"welcome"')) ws.send(SUBSCRIBE);
      else if (text.includes('"id":"1"')) {
        if (!text.includes('"type":"result"')) return fail(`subscribe failed: ${text.slice(0, 200)}`);
        ready = true;
        clearTimeout(timer);
        ws.onmessage = (e) => audience.hit(index, e.data as string);
        resolve(ws);
      }
    };
    ws.onerror = () => fail("connection failed");
    ws.onclose = (event) => {
      if (ready) audience.closed();
      else fail(`closed ${event.code} ${event.reason}`);
    };
  });
}

/** Opens `count` clients, CONNECT_BATCH at a time. */
async function openClients(
  url: (index: number) => string,
  count: number,
  audience: Audience,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let first = 0; first < count; first += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - first) }, (_, i) => first + i);
    const settled = await Promise.allSettled(batch.map((i) => connectClient(url(i), i, audience)));
    for (const s of settled) if (s.status === "fulfilled") sockets.push(s.value);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) {
      await closeClients(sockets);
      throw failed.reason;
    }
  }
  return sockets;
}

async function closeClients(sockets: WebSocket[]) {
  const closed = sockets
    .filter((ws) => ws.readyState !== WebSocket.CLOSED)
    .map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.onclose = () => resolve();
          ws.close(1000, "bench done");
        }),
    );
  await withTimeout(Promise.all(closed), CLOSE_TIMEOUT_MS, "clients not closed").catch((err) =>
    console.warn(`  note: ${(err as Error).message}`),
  );
}

/** Busy share of all cores over an interval, from /proc/stat (idle + iowait count as idle). */
function machineMeter() {
  const read = () => {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { total, idle: fields[3]! + fields[4]! };
  };
  const before = read();
  return () => {
    const after = read();
    return 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total);
  };
}

/** CPU use of a process over an interval, as a share of one core. */
function cpuMeter(pid: number) {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  return () => (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
}

/** Runs `start` (publishes for the given seconds, resolves with the count), then drains and sums up. */
async function measure(
  opts: Options,
  audience: Audience,
  serverPid: number,
  start: () => Promise<number>,
): Promise<PhaseResult> {
  const serverCpu = cpuMeter(serverPid);
  const benchCpu = cpuMeter(process.pid);
  const machine = machineMeter();
  const t0 = Date.now();
  audience.window(t0, t0 + opts.seconds * 1000);
  const published = await start();
  const cpu = { server: serverCpu(), bench: benchCpu(), machine: machine() };
  await audience.quiet();
  const s = audience.summary(published);
  return {
    clients: opts.clients,
    published,
    ...s,
    rate: s.inWindow / opts.seconds,
    serverCpu: cpu.server,
    benchCpu: cpu.bench,
    machineCpu: cpu.machine,
  };
}

async function stationPhase(opts: Options) {
  const life = benchLifecycle("fanout (station)", (opts.seconds + 150 + opts.clients / 20) * 1000);
  try {
    const station = await startBenchStation();
    life.defer(() => station.stop());
    const [creds] = await station.createDevices(1, "sensor", { namePrefix: "fanout" });
    const wsBase = station.httpUrl.replace(/^http/, "ws");
    const iotUrl = `${wsBase}/ws/iot?deviceId=${encodeURIComponent(creds!.deviceId)}&token=${encodeURIComponent(creds!.mqttPassword)}`;
    const device = spawnBenchChild([
      import.meta.path,
      "--iot-device",
      iotUrl,
      "--seconds",
      String(opts.seconds),
      "--interval-ms",
      String(opts.intervalMs),
    ]);
    life.defer(() => device.stop());
    await device.waitFor(/^ready$/m, 15_000, "the /ws/iot device did not handshake");

    const audience = createAudience(opts.clients, opts.sampleClients);
    // One user may hold 64 app sockets (CONTRACT.md section 2, issue 9): the clients are spread
    // over as many member users as that takes, SOCKETS_PER_USER each, as a household of many apps.
    const users = Math.ceil(opts.clients / SOCKETS_PER_USER);
    const tokens = await station.memberTokens(users, "fanout");
    console.log(
      `  ${opts.clients} clients over ${users} member users, at most ${SOCKETS_PER_USER} sockets each`,
    );
    const clients = await openClients(
      (i) => `${wsBase}/ws?token=${encodeURIComponent(tokens[Math.floor(i / SOCKETS_PER_USER)]!)}`,
      opts.clients,
      audience,
    );
    life.defer(() => closeClients(clients));
    await Bun.sleep(SETTLE_MS);
    const rssBefore = station.rssMb();

    const result = await measure(opts, audience, station.pid, async () => {
      device.send("start");
      const [, count] = await device.waitFor(
        /published (\d+)/,
        opts.seconds * 1000 + 30_000,
        "the /ws/iot device did not finish",
      );
      return Number(count);
    });
    const rssAfter = station.rssMb();
    await closeClients(clients);
    return { result, rssBefore, rssAfter };
  } finally {
    await life.finish();
  }
}

async function rawPhase(opts: Options): Promise<PhaseResult> {
  const life = benchLifecycle("fanout (raw Bun publish)", (opts.seconds + 90 + opts.clients / 20) * 1000);
  try {
    const server = spawnBenchChild([join(import.meta.dir, "raw-fanout-server.ts")]);
    life.defer(() => server.stop());
    const [, port] = await server.waitFor(/port (\d+)/, 15_000, "the raw fanout server did not listen");
    const base = `127.0.0.1:${port}`;
    const audience = createAudience(opts.clients, opts.sampleClients);
    const clients = await openClients(() => `ws://${base}/`, opts.clients, audience);
    life.defer(() => closeClients(clients));
    await Bun.sleep(SETTLE_MS);

    const result = await measure(opts, audience, server.pid, async () => {
      const started = (await (
        await fetch(`http://${base}/start?seconds=${opts.seconds}&intervalMs=${opts.intervalMs}`)
      ).json()) as { clients: number };
      if (started.clients !== opts.clients)
        console.warn(`  note: the raw server counts ${started.clients} subscribers, not ${opts.clients}`);
      await Bun.sleep(opts.seconds * 1000);
      for (;;) {
        const stats = (await (await fetch(`http://${base}/stats`)).json()) as {
          running: boolean;
          published: number;
        };
        if (!stats.running) return stats.published;
        await Bun.sleep(50);
      }
    });
    await closeClients(clients);
    return result;
  } finally {
    await life.finish();
  }
}

// ─── the /ws/iot device (child process) ──────────────────────────────────────────────────

/**
 * `--iot-device <url>`: handshakes, prints `ready`, waits for `start` on stdin, reports state
 * every interval for the given seconds, prints `published N`, and stays connected until
 * stdin closes or SIGTERM (so the station sees no disconnect during the drain).
 */
async function runIotDevice(url: string, seconds: number, intervalMs: number) {
  const exit = () => process.exit(0);
  process.on("SIGTERM", exit);
  const ws = new WebSocket(url);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () =>
        ws.send(JSON.stringify({ topic: "handshake", payload: { type: "sensor", firmwareVersion: "1" } }));
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as { topic: string; payload: { status?: string } };
        if (frame.topic !== "handshake/ack") return;
        if (frame.payload.status === "ok") resolve();
        else reject(new Error(`handshake answered ${frame.payload.status}`));
      };
      ws.onerror = () => reject(new Error(`cannot connect to ${url.replace(/token=[^&]*/, "token=…")}`));
    }),
    15_000,
    "no handshake ack",
  );
  ws.onclose = (event) => {
    console.error(`fanout device: /ws/iot closed ${event.code} ${event.reason}`);
    process.exit(1);
  };
  process.stdout.write("ready\n");
  for await (const line of console) {
    if (line.trim() !== "start") continue;
    const count = Math.round((seconds * 1000) / intervalMs);
    await paced(count, intervalMs, (seq) =>
      ws.send(`{"topic":"state","payload":{"state":{"seq":${seq},"sentAt":${Date.now()}}}}`),
    );
    process.stdout.write(`published ${count}\n`);
  }
  exit();
}

// ─── main ─────────────────────────────────────────────────────────────────────────────────

function parseOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      clients: { type: "string", default: "1000" },
      seconds: { type: "string", default: "10" },
      "interval-ms": { type: "string", default: "10" },
      "sample-clients": { type: "string", default: "100" },
      "iot-device": { type: "string" },
    },
  });
  const opts: Options = {
    clients: Math.max(1, Number.parseInt(values.clients, 10) || 1000),
    seconds: Math.max(1, Number.parseFloat(values.seconds) || 10),
    intervalMs: Math.max(1, Number.parseFloat(values["interval-ms"]) || 10),
    sampleClients: Math.max(0, Number.parseInt(values["sample-clients"], 10) || 0),
  };
  return { opts, iotDevice: values["iot-device"] };
}

function row(label: string, r: PhaseResult) {
  const expected = r.published * r.clients;
  const pct = (n: number) => ((100 * n) / Math.max(1, expected)).toFixed(1);
  return (
    `${label.padEnd(20)} ${r.rate.toFixed(0).padStart(8)} msg/s delivered   ` +
    `latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms (${r.samples} samples; ` +
    `of it until the server's \`at\`: p50 ${r.ingestP50} ms, p99 ${r.ingestP99} ms)\n` +
    `${"".padEnd(20)} arrived ${r.received}/${expected} expected (${pct(r.received)} %; ${pct(r.inWindow)} % in the window), ` +
    `${r.published} published, last seq at ${r.gotLast}/${r.clients} clients` +
    (r.droppedNotices ? `, ${r.droppedNotices} dropped notices` : "") +
    (r.unexpectedCloses ? `, ${r.unexpectedCloses} sockets closed early` : "") +
    `\n${"".padEnd(20)} CPU while publishing: server ${(100 * r.serverCpu).toFixed(0)} %, ` +
    `bench clients ${(100 * r.benchCpu).toFixed(0)} % of one core; all ${cpus().length} cores ${(100 * r.machineCpu).toFixed(0)} % busy`
  );
}

async function main(opts: Options) {
  const limit = await openFilesLimit();
  console.log(
    `fanout: ${opts.clients} /ws clients, one device state every ${opts.intervalMs} ms for ${opts.seconds} s; ` +
      `latency over all pushes to ${Math.min(opts.sampleClients, opts.clients)} clients; ` +
      `this process may open ${limit} files (ulimit -n)`,
  );
  if (limit < opts.clients + FD_HEADROOM) {
    console.log(
      `  ${opts.clients} client sockets need ulimit -n ≥ ${opts.clients + FD_HEADROOM} here (and in the raw ` +
        `server, which inherits it); run \`ulimit -n ${Math.max(4096, opts.clients * 2)}\` in this shell first ` +
        "or pass a smaller --clients (the station raises its own limit)",
    );
    return;
  }

  const [load1] = loadavg();
  if (load1! > cpus().length / 2)
    console.log(
      `  note: load average ${load1!.toFixed(1)} on ${cpus().length} cores before the run; ` +
        "other work competes for CPU and skews both phases",
    );
  console.log("measuring the station (/ws/iot device → device core → /ws pushes) …");
  const station = await stationPhase(opts);
  console.log("measuring Bun's raw publish (server.publish to a topic every socket subscribed) …");
  const raw = await rawPhase(opts);

  const ratio = station.result.rate / raw.rate;
  console.log(`\n${row("station (/ws)", station.result)}`);
  console.log(row("raw Bun publish", raw));
  console.log(
    `station / raw delivered rate: ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)}); ` +
      `p99 ${station.result.p99} ms vs ${raw.p99} ms`,
  );
  console.log(
    `station RSS: ${station.rssBefore.toFixed(1)} MiB with ${opts.clients} clients connected, ` +
      `${station.rssAfter.toFixed(1)} MiB after the run`,
  );
}

const { opts, iotDevice } = parseOptions();
if (iotDevice) await runIotDevice(iotDevice, opts.seconds, opts.intervalMs);
else await main(opts);
