import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { StationConfig } from "./config-schema.ts";
import { deviceBrokerHost } from "./data-dir.ts";

/** `<data-dir>/run/station.json`: how other subcommands find the running station (CONTRACT.md 1). */
export const runInfoSchema = z.object({
  pid: z.number().int(),
  version: z.string(),
  stationId: z.string(),
  httpUrl: z.string(),
  httpPort: z.number().int(),
  mqttUrl: z.string(),
  mqttPort: z.number().int(),
  startedAt: z.number(),
  /** What a person on the LAN opens in a browser (install.sh prints it too). */
  webUrl: z.string().optional(),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "localhost"]);
const ANY_ADDRESS = new Set(["0.0.0.0", "::"]);

const hostInUrl = (host: string) => (host.includes(":") ? `[${host}]` : host);

/**
 * The address a person on the LAN opens: listening on every address, that is the advertise
 * host (the machine's LAN IPv4 unless configured); listening on one address, that address.
 */
export function webUrl(config: Pick<StationConfig, "host" | "advertiseHost">, httpPort: number): string {
  const host = ANY_ADDRESS.has(config.host) ? config.advertiseHost : config.host;
  return `http://${hostInUrl(host)}:${httpPort}/`;
}

/** The facts station.json carries, from the configuration and what was actually bound. */
export function describeRun(
  config: StationConfig,
  bound: { pid: number; version: string; httpPort: number; mqttPort: number; startedAt: number },
): RunInfo {
  const httpHost = WILDCARD_HOSTS.has(config.host) ? "127.0.0.1" : config.host;
  const scheme = config.mqttUrl?.startsWith("mqtts:") ? "mqtts" : "mqtt";
  return {
    pid: bound.pid,
    version: bound.version,
    stationId: config.stationId,
    httpUrl: `http://${hostInUrl(httpHost)}:${bound.httpPort}`,
    httpPort: bound.httpPort,
    // Where devices connect (the same host and port POST /api/devices hands out).
    mqttUrl: `${scheme}://${deviceBrokerHost(config)}:${bound.mqttPort}`,
    mqttPort: bound.mqttPort,
    startedAt: bound.startedAt,
    webUrl: webUrl(config, bound.httpPort),
  };
}

export function runFilePath(dataDir: string): string {
  return join(dataDir, "run", "station.json");
}

export function writeRunFile(dataDir: string, info: RunInfo): void {
  const file = runFilePath(dataDir);
  // Write then rename, so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o640 });
  renameSync(`${file}.tmp`, file);
}

/** Removes the run file if it is this process's (another station may have written it since). */
export function removeRunFile(dataDir: string, pid: number): void {
  const file = runFilePath(dataDir);
  try {
    if (runInfoSchema.parse(JSON.parse(readFileSync(file, "utf8"))).pid !== pid) return;
  } catch {
    // Unreadable or half-written: it is ours to clean up.
  }
  rmSync(file, { force: true });
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running station's facts, or undefined when none is running (a stale file is ignored). */
export function readRunFile(dataDir: string, isAlive: (pid: number) => boolean): RunInfo | undefined {
  const file = runFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = runInfoSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    return isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}
