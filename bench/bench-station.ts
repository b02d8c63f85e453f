/**
 * Shared bench setup: a real station process with an admin token and N registered devices,
 * a plain aedes broker in a child process as the baseline, raw MQTT.js device clients, and a
 * deadline that tears everything down if a bench hangs. Benches print; they never assert.
 *
 * Run directly with `--raw-broker`, this file is that baseline broker's child process.
 */
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import {
  brokerUrl,
  createStationApiClient,
  type DeviceCredentials,
  type DeviceType,
  deviceTopic,
} from "../firmware-sim/index.ts";
import type { DeviceTopicSuffix } from "../src/protocol/index.ts";
import { repoRoot, runCommand, type SpawnedStation, spawnStation } from "../tests/helpers/spawn-station.ts";
import { makeTempDir } from "../tests/helpers/temp-dir.ts";

const FD_LIMIT = 65_536;
const ADMIN = "bench";
const PASSWORD = "pw12345678";
// Under 2^31 ms: the /ws expiry timer of a longer-lived token (the default 30d) overflows
// Node's setTimeout, fires after 1 ms and closes the socket with 4003 right after `welcome`.
const TOKEN_TTL = "7d";
/** USER_HZ: Linux reports process CPU times in 1/100 s on every architecture Bun runs on. */
const CLOCK_TICKS = 100;

// ─── lifecycle ────────────────────────────────────────────────────────────────────────────

export interface BenchLifecycle {
  /** Registers a teardown step; steps run in reverse order. */
  defer(step: () => unknown): void;
  /** Runs every teardown step and cancels the deadline. */
  finish(): Promise<void>;
}

/**
 * Bounds a bench's wall time: past `maxMs` (or on Ctrl-C) every deferred step runs and the
 * process exits 1, so no station or broker outlives a hung bench.
 */
export function benchLifecycle(name: string, maxMs: number): BenchLifecycle {
  const steps: (() => unknown)[] = [];
  const runSteps = async () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        console.warn(`${name}: teardown step failed: ${(err as Error).message}`);
      }
    }
  };
  const abort = (why: string) => {
    console.error(`${name}: ${why}; stopping everything`);
    // A teardown that itself hangs must not keep the process alive.
    setTimeout(() => process.exit(1), 20_000).unref();
    void runSteps().then(() => process.exit(1));
  };
  const deadline = setTimeout(() => abort(`exceeded ${Math.round(maxMs / 1000)} s`), maxMs);
  const onSignal = () => abort("interrupted");
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    defer: (step) => void steps.push(step),
    async finish() {
      clearTimeout(deadline);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await runSteps();
    },
  };
}

// ─── station ──────────────────────────────────────────────────────────────────────────────

export interface BenchStation {
  station: SpawnedStation;
  pid: number;
  httpUrl: string;
  token: string;
  dataDir: string;
  /** An authenticated JSON request; throws unless the status is one of `expect`. */
  api<T = unknown>(method: string, path: string, body?: unknown, expect?: number[]): Promise<T>;
  /** Registers `count` devices through POST /api/devices, `concurrency` requests at a time. */
  createDevices(
    count: number,
    type: DeviceType,
    options?: { concurrency?: number; namePrefix?: string },
  ): Promise<DeviceCredentials[]>;
  rssMb(): number;
  /**
   * `count` access tokens of `count` member users made through POST /api/users and sign-in, for
   * benches that open more app sockets than one user may hold (64, CONTRACT.md section 2).
   */
  memberTokens(count: number, prefix?: string): Promise<string[]>;
  /** SIGTERM (graceful: pending writes flushed); the data dir stays for inspection. */
  terminate(): Promise<number>;
  /** terminate(), then the temp dir is removed. */
  stop(): Promise<number>;
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The soft open-files limit this process (and what it spawns without raising it) runs with. */
export async function openFilesLimit(): Promise<number> {
  const { stdout } = await runCommand(["sh", "-c", "ulimit -n"]);
  const value = stdout.trim();
  return value === "unlimited" ? Number.POSITIVE_INFINITY : Number.parseInt(value, 10);
}

/**
 * Spawns `opengenie serve` on free ports in a fresh data dir with an admin and a token made
 * offline first. The station runs through `sh -c 'ulimit -n …; exec …'` so a 1 000-device
 * fleet does not hit the open-files limit; `exec` keeps the station's pid the child's pid.
 * `BENCH_STATION_BUN_ARGS` adds runtime flags, e.g. `--cpu-prof-md --cpu-prof-dir=/tmp/prof`.
 * With `binary` (a compiled executable) that runs instead of `bun bin/opengenie.ts`, for the
 * CLI steps too (default: $BENCH_STATION_BINARY, e.g. dist/opengenie-linux-x64, for any bench);
 * `serveEnv` is added for `serve` only.
 */
export async function startBenchStation(
  options: {
    env?: Record<string, string>;
    serveEnv?: Record<string, string>;
    bunArgs?: string[];
    binary?: string;
  } = {},
): Promise<BenchStation> {
  const bunArgs = options.bunArgs ?? process.env.BENCH_STATION_BUN_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const dir = makeTempDir("opengenie-bench-");
  const dataDir = join(dir.path, "data");
  const binary = options.binary ?? process.env.BENCH_STATION_BINARY;
  const opengenie = binary ? [binary] : [process.execPath, join(repoRoot, "bin", "opengenie.ts")];
  const env = { HOME: dir.path, ...options.env };
  try {
    const add = await runCommand(
      [...opengenie, "user", "add", ADMIN, "--role", "admin", "--password-stdin", "--data-dir", dataDir],
      { env, stdin: `${PASSWORD}\n` },
    );
    if (add.code !== 0) throw new Error(`user add failed (${add.code}): ${add.stderr}${add.stdout}`);
    const tok = await runCommand(
      [...opengenie, "token", "create", "--user", ADMIN, "--ttl", TOKEN_TTL, "--data-dir", dataDir],
      {
        env,
      },
    );
    const token = tok.stdout.trim();
    if (tok.code !== 0 || !token) throw new Error(`token create failed (${tok.code}): ${tok.stderr}`);

    const raiseLimit = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
    const station = await spawnStation(dataDir, {
      cmd: binary
        ? ["sh", "-c", raiseLimit, "sh", binary]
        : ["sh", "-c", raiseLimit, "sh", process.execPath, ...bunArgs, ...opengenie.slice(1)],
      env: { ...env, ...options.serveEnv },
      timeoutMs: 30_000,
    });
    const { httpUrl, pid } = station.info;

    const api = async <T>(method: string, path: string, body?: unknown, expect = [200]): Promise<T> => {
      const res = await fetch(`${httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!expect.includes(res.status))
        throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };

    let terminated: Promise<number> | undefined;
    const terminate = () => {
      terminated ??= station.terminate();
      return terminated;
    };
    return {
      station,
      pid,
      httpUrl,
      token,
      dataDir,
      api,
      async createDevices(count, type, opts = {}) {
        const client = createStationApiClient({ api: httpUrl, apiToken: token });
        const out: DeviceCredentials[] = new Array(count);
        let next = 0;
        const worker = async () => {
          while (next < count) {
            const i = next++;
            out[i] = (
              await client.createDevice(`${opts.namePrefix ?? `bench-${type}`}-${i + 1}`, type)
            ).credentials;
          }
        };
        await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, count) }, worker));
        return out;
      },
      rssMb: () => rssMb(pid),
      async memberTokens(count, prefix = "bench-member") {
        return mapPool(Array.from({ length: count }), 4, async (_, i) => {
          const username = `${prefix}-${i + 1}`;
          await api("POST", "/api/users", { username, password: PASSWORD, role: "member" }, [200, 201]);
          const res = await fetch(`${httpUrl}/api/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ username, password: PASSWORD }),
          });
          if (res.status !== 200)
            throw new Error(`sign-in as ${username} → ${res.status}: ${await res.text()}`);
          return ((await res.json()) as { accessToken: string }).accessToken;
        });
      },
      terminate,
      stop: () => terminate().finally(() => dir.remove()),
    };
  } catch (err) {
    dir.remove();
    throw err;
  }
}

// ─── raw devices ──────────────────────────────────────────────────────────────────────────

/** Resolves once the client has a CONNACK; rejects on a refusal or after `timeoutMs`. */
export function connected(client: MqttClient, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
      if (err) reject(err);
      else resolve();
    };
    const onConnect = () => done();
    const onError = (err: Error) => done(err);
    client.once("connect", onConnect);
    client.once("error", onError);
  });
}

export interface RawDevice {
  client: MqttClient;
  creds: DeviceCredentials;
  topic(suffix: string): string;
}

/**
 * A device as a bare MQTT.js client (cheaper than firmware-sim for load): logs in with its
 * credentials and last will, subscribes to its handshake/ack and command topics, handshakes
 * and waits for the station's `ok`.
 */
export async function connectRawDevice(
  creds: DeviceCredentials,
  options: { type: DeviceType; heartbeatSec?: number; timeoutMs?: number },
): Promise<RawDevice> {
  const topic = (suffix: DeviceTopicSuffix) => deviceTopic(creds.stationId, creds.deviceId, suffix);
  const client = mqtt.connect(brokerUrl(creds), {
    clientId: creds.deviceId,
    username: creds.mqttUsername,
    password: creds.mqttPassword,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs ?? 15_000,
    will: { topic: topic("heartbeat"), payload: Buffer.from('{"status":"offline"}'), qos: 1, retain: false },
  });
  try {
    await connected(client, options.timeoutMs);
    await client.subscribeAsync([topic("handshake/ack"), topic("command")], { qos: 1 });
    const ack = new Promise<void>((resolve, reject) => {
      const onMessage = (t: string, payload: Buffer) => {
        if (t !== topic("handshake/ack")) return;
        client.off("message", onMessage);
        const status = JSON.parse(payload.toString()).status;
        if (status === "ok") resolve();
        else reject(new Error(`${creds.deviceId}: handshake answered ${status}`));
      };
      client.on("message", onMessage);
    });
    const handshake = {
      type: options.type,
      firmwareVersion: "bench-1.0.0",
      heartbeatSec: options.heartbeatSec,
    };
    await client.publishAsync(topic("handshake"), JSON.stringify(handshake), { qos: 1 });
    await withTimeout(ack, options.timeoutMs ?? 15_000, `${creds.deviceId}: no handshake ack`);
    return { client, creds, topic };
  } catch (err) {
    client.end(true);
    throw err;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `task` over `items`, at most `concurrency` at a time, keeping the input order. */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, i: number) => Promise<R>,
) {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

// ─── baseline broker ──────────────────────────────────────────────────────────────────────

export interface RawBroker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A plain aedes broker (no auth, no hooks, in-memory) in its own process, like the station's
 * embedded one, so the baseline and the station each get a process of their own.
 */
export async function startRawBroker(): Promise<RawBroker> {
  const child = spawnBenchChild([import.meta.path, "--raw-broker"]);
  const [, port] = await child
    .waitFor(/port (\d+)/, 15_000, "raw aedes broker did not listen")
    .catch(async (err) => {
      await child.stop();
      throw err;
    });
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid, stop: child.stop };
}

// ─── child processes ──────────────────────────────────────────────────────────────────────

export interface BenchChild {
  pid: number;
  /**
   * Resolves with the first match of `pattern` in what the child printed since the previous
   * match; rejects if the child exits first or after `timeoutMs` ("<what> within N ms").
   */
  waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** SIGTERM, SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Runs `bun <args>` as a helper process speaking lines: its stdout is scanned by `waitFor`, its
 * stderr is inherited, and its stdin is a pipe, so the child can exit when the bench dies.
 */
export function spawnBenchChild(args: string[]): BenchChild {
  const proc = Bun.spawn([process.execPath, ...args], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  let text = "";
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      text += decoder.decode(chunk, { stream: true });
      notify();
    }
    ended = true;
    notify();
  })();
  let stopped: Promise<void> | undefined;
  return {
    pid: proc.pid,
    waitFor(pattern, timeoutMs, what) {
      const scan = async () => {
        for (;;) {
          const match = pattern.exec(text);
          if (match) {
            text = text.slice(match.index + match[0].length);
            return match;
          }
          if (ended) throw new Error(`${what}: the child exited (${await proc.exited}) first`);
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      };
      return withTimeout(scan(), timeoutMs, what);
    },
    send(line) {
      proc.stdin.write(`${line}\n`);
      proc.stdin.flush();
    },
    stop() {
      stopped ??= (async () => {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
        await proc.exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

async function serveRawBroker() {
  const aedes = await Aedes.createBroker();
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`raw aedes broker listening on port ${(server.address() as AddressInfo).port}\n`);
  const exit = () => process.exit(0);
  process.stdin.on("end", exit);
  process.stdin.on("close", exit);
  process.stdin.resume();
  process.on("SIGTERM", exit);
}

// ─── statistics ───────────────────────────────────────────────────────────────────────────

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const verdict = (ok: boolean) => (ok ? "pass" : "MISSED");

if (import.meta.main && process.argv.includes("--raw-broker")) await serveRawBroker();
