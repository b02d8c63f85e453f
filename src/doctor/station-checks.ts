import { statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { isProcessAlive, readRunFile, type StationConfig } from "../config/index.ts";
import type { Platform } from "../platform/index.ts";
import { isPostgresUrl } from "../storage/database-url.ts";
import { databasePath } from "../storage/index.ts";
import { type CheckResult, fail, ok, warn } from "./check.ts";
import { cloudCheck } from "./cloud-check.ts";
import { postgresChecks } from "./postgres-check.ts";

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The `storage` part of /api/health; absent from stations older than issue 8. */
const storageHealth = z.object({ ok: z.boolean(), error: z.string().optional() });

/** What to do about a storage error, by its SQLite code (https://www.sqlite.org/rescode.html). */
function storageFix(error: string, dataDir: string): string {
  if (/^((08|53|57|58)[0-9A-Z]{3}|E[A-Z_]+|postgres):/.test(error)) {
    return "check that PostgreSQL runs and accepts the station's connections (docs/postgres.md); pending device data is written once it does";
  }
  if (error.startsWith("SQLITE_FULL")) {
    return `free disk space on the file system holding ${dataDir} (df -h ${dataDir}); pending device data is written once there is room`;
  }
  if (/^SQLITE_(READONLY|CANTOPEN|PERM)/.test(error)) {
    return `make ${dataDir} writable by the station's user (mounted read-only? see 'mount' and 'ls -l ${dataDir}')`;
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(error)) {
    return `another process holds ${databasePath(dataDir)} locked; close it (a sqlite3 shell?)`;
  }
  return "the disk reports errors (see 'dmesg'); replace it and restore a backup with 'opengenie restore <file>'";
}

function storageCheck(health: unknown, dataDir: string): CheckResult[] {
  const parsed = storageHealth.safeParse(health);
  if (!parsed.success) return [];
  const { ok: writing, error = "unknown error" } = parsed.data;
  return writing
    ? [ok("storage", "storage", "device data is being written")]
    : [
        fail(
          "storage",
          "storage",
          `the station cannot write device data: ${error}`,
          storageFix(error, dataDir),
        ),
      ];
}

export async function stationChecks(config: StationConfig, platform: Platform): Promise<CheckResult[]> {
  const results: CheckResult[] = [ok("data-dir", "data dir", `${config.dataDir} is writable`)];
  const secret = join(config.dataDir, "jwt-secret");
  try {
    const mode = statSync(secret).mode & 0o777;
    results.push(
      mode === 0o600
        ? ok("secret", "JWT secret", "mode 0600")
        : fail("secret", "JWT secret", `mode ${mode.toString(8)}`, `chmod 600 ${secret}`),
    );
  } catch {
    results.push(
      ok("secret", "JWT secret", config.jwtSecret ? "from OPENGENIE_JWT_SECRET" : "generated on first start"),
    );
  }
  if (isPostgresUrl(config.databaseUrl)) {
    results.push(...(await postgresChecks({ ...config, databaseUrl: config.databaseUrl })));
  } else
    try {
      const db = platform.openSqlite(databasePath(config.dataDir));
      let problems: string[];
      try {
        problems = db.integrityCheck("quick");
      } finally {
        db.close();
      }
      results.push(
        problems.length === 0
          ? ok("database", "database", "quick_check ok")
          : fail(
              "database",
              "database",
              `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`,
              "restore a backup with 'opengenie restore <file>'",
            ),
      );
    } catch (err) {
      results.push(
        fail("database", "database", (err as Error).message, `check permissions of ${config.dataDir}`),
      );
    }

  const running = readRunFile(config.dataDir, isProcessAlive);
  if (running) {
    try {
      const res = await fetch(`${running.httpUrl}/api/health`, { signal: AbortSignal.timeout(3000) });
      const health = (await res.json()) as { mqtt?: { connected?: boolean }; storage?: unknown };
      results.push(ok("station", "station", `running, pid ${running.pid}, ${running.httpUrl}`));
      results.push(
        health.mqtt?.connected
          ? ok("mqtt", "MQTT", `connected (${running.mqttUrl})`)
          : fail(
              "mqtt",
              "MQTT",
              "the station is not connected to its broker",
              "check --mqtt-url and that the broker runs",
            ),
      );
      results.push(...storageCheck(health.storage, config.dataDir));
      results.push(await cloudCheck(running.httpUrl, config));
    } catch (err) {
      results.push(
        fail(
          "station",
          "station",
          `pid ${running.pid} does not answer: ${(err as Error).message}`,
          "restart it: sudo systemctl restart opengenie",
        ),
      );
    }
    return results;
  }
  results.push(
    warn(
      "station",
      "station",
      "not running",
      "start it: opengenie serve (or sudo systemctl start opengenie)",
    ),
  );
  const host = config.host;
  results.push(
    config.port === 0 || (await portFree(host, config.port))
      ? ok("port.http", "HTTP port", `${config.port} is free`)
      : fail("port.http", "HTTP port", `${config.port} is in use`, "pass --port or stop the other process"),
  );
  if (!config.mqttUrl) {
    results.push(
      config.mqttPort === 0 || (await portFree(host, config.mqttPort))
        ? ok("port.mqtt", "MQTT port", `${config.mqttPort} is free`)
        : fail(
            "port.mqtt",
            "MQTT port",
            `${config.mqttPort} is in use`,
            "pass --mqtt-port or --mqtt-url (is Mosquitto running?)",
          ),
    );
  }
  return results;
}
