import { randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { ParsedConfig, StationConfig } from "./config-schema.ts";
import { ConfigError } from "./load-config.ts";

export function ensureDataDir(dataDir: string): void {
  try {
    // An existing dir keeps the mode its owner chose; a new one is 0750 (mkdir's mode is masked).
    for (const dir of [dataDir, join(dataDir, "run")]) {
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        chmodSync(dir, 0o750);
      }
    }
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(
      `data dir ${dataDir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass --data-dir or fix its permissions`,
    );
  }
}

/**
 * Reads a value persisted in the data dir, generating it once; secrets are written 0600. Two
 * processes starting together on a new data dir (a station and a CLI command, or two stations
 * of which one will refuse) agree on one value: it is written whole to a temp file and linked
 * into place exclusively, and whoever comes second reads the first one's value.
 */
function persisted(dataDir: string, name: string, generate: () => string, secret: boolean): string {
  const file = join(dataDir, name);
  const read = () => {
    if (secret && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  };
  if (existsSync(file)) {
    const value = read();
    if (value) return value;
    rmSync(file, { force: true }); // an empty file from an older version: generate anew
  }
  const value = generate();
  const temp = `${file}.${randomBytes(8).toString("hex")}.tmp`;
  writeFileSync(temp, `${value}\n`, { mode: secret ? 0o600 : 0o640, flag: "wx" });
  try {
    linkSync(temp, file);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return read();
  } finally {
    rmSync(temp, { force: true });
  }
}

export function lanIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/** Gives the parsed config its station id, JWT secret and advertise host (generated once, persisted). */
export function completeConfig(parsed: ParsedConfig, isTTY: boolean): StationConfig {
  ensureDataDir(parsed.dataDir);
  const stationId =
    parsed.stationId ??
    persisted(parsed.dataDir, "station-id", () => `st-${randomBytes(6).toString("hex")}`, false);
  const jwtSecret =
    parsed.jwtSecret ??
    persisted(parsed.dataDir, "jwt-secret", () => randomBytes(32).toString("base64url"), true);
  // Per data dir, not per station: each of several instances of one station keeps its own.
  const instanceId =
    parsed.instanceId ??
    persisted(parsed.dataDir, "instance-id", () => `in-${randomBytes(6).toString("hex")}`, false);
  return {
    ...parsed,
    stationId,
    jwtSecret,
    instanceId,
    advertiseHost: parsed.advertiseHost ?? lanIPv4() ?? "127.0.0.1",
    logFormat: parsed.logFormat ?? (isTTY ? "pretty" : "json"),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]);

/**
 * The broker host devices are told to reach: the advertise host for the embedded broker, or
 * the external broker's host unless that is a loopback name only this machine can use.
 */
export function deviceBrokerHost(config: StationConfig): string {
  if (!config.mqttUrl) return config.advertiseHost;
  const host = new URL(config.mqttUrl).hostname.replace(/^\[|\]$/g, "");
  return LOOPBACK.has(host) ? config.advertiseHost : host;
}
