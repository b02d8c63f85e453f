import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ConfigError,
  completeConfig,
  isProcessAlive,
  loadConfig,
  readRunFile,
  type StationConfig,
} from "../../config/index.ts";
import { isPostgresUrl, redactDatabaseUrl } from "../../storage/database-url.ts";
import { inspectBackup, installBackup, writeBackup, writePrivateFile } from "../../storage/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { parseFlags } from "../parse-flags.ts";

export const backupHelp = `Usage: opengenie backup --out <file> [--data-dir <dir>]

Writes one file with the database (users, devices and their state, events) and the station's
identity (station id and token secret), mode 0600. Safe while the station runs.
Restore it with 'opengenie restore <file>'.
`;

export const restoreHelp = `Usage: opengenie restore <file> [--force] [--data-dir <dir>]

Replaces the data dir's database and identity with a backup made by 'opengenie backup'.
The station must be stopped (sudo systemctl stop opengenie). --force replaces a station
that has data of its own without asking.
`;

function config(io: CliIo, dataDir: string | undefined): StationConfig {
  try {
    return completeConfig(loadConfig({ flags: { "data-dir": dataDir }, env: io.env }), io.isTTY);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** Under PostgreSQL the station's data is the database's: PostgreSQL's own tools back it up. */
function refuseUnderPostgres(cfg: StationConfig, what: "backup" | "restore"): void {
  if (!isPostgresUrl(cfg.databaseUrl)) return;
  const target = redactDatabaseUrl(cfg.databaseUrl);
  throw new CliError(
    what === "backup"
      ? `this station stores in PostgreSQL (${target}); 'opengenie backup' copies the SQLite file only. Back up with pg_dump: pg_dump --format=custom --file=opengenie.dump '<database url>' (docs/postgres.md)`
      : `this station stores in PostgreSQL (${target}); 'opengenie restore' replaces the SQLite file only. Restore with pg_restore: pg_restore --clean --dbname='<database url>' opengenie.dump (docs/postgres.md)`,
  );
}

export async function backupCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("backup", args, { out: { type: "string" } });
  if (values.help) {
    io.stdout(backupHelp);
    return exit(0);
  }
  if (!values.out) throw new CliError("--out <file> is required; see 'opengenie backup --help'");
  const cfg = config(io, values["data-dir"]);
  refuseUnderPostgres(cfg, "backup");
  const out = resolve(values.out);
  io.stderr(`backing up ${cfg.dataDir} …\n`);
  let result: { bytes: number };
  try {
    result = writeBackup(
      io.platform,
      cfg.dataDir,
      out,
      { stationId: cfg.stationId, jwtSecret: cfg.jwtSecret },
      Date.now(),
    );
  } catch (err) {
    throw new CliError(`backup failed: ${(err as Error).message}; check that ${out} is writable`);
  }
  const summary = inspectBackup(io.platform, out);
  io.stdout(
    `wrote ${out} (${Math.ceil(result.bytes / 1024)} KiB: ${summary.users} users, ${summary.devices} devices, station ${summary.stationId})\n`,
  );
  return exit(0);
}

export async function restoreCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags("restore", args, { force: { type: "boolean" } }, true);
  if (values.help) {
    io.stdout(restoreHelp);
    return exit(0);
  }
  if (positionals.length !== 1) throw new CliError("usage: opengenie restore <file>");
  const file = resolve(positionals[0]!);
  const cfg = config(io, values["data-dir"]);
  refuseUnderPostgres(cfg, "restore");
  const dataDir = cfg.dataDir;
  const running = readRunFile(dataDir, isProcessAlive);
  if (running) {
    throw new CliError(
      `the station is running (pid ${running.pid}); stop it first: sudo systemctl stop opengenie`,
    );
  }
  io.stderr(`checking ${file} …\n`);
  let backup: ReturnType<typeof inspectBackup>;
  try {
    backup = inspectBackup(io.platform, file);
  } catch (err) {
    throw new CliError(`cannot restore ${file}: ${(err as Error).message}`);
  }
  const hasData = existsSync(join(dataDir, "opengenie.db"));
  if (hasData && !values.force && !io.isTTY) {
    throw new CliError(`${dataDir} already has a database; pass --force to replace it with the backup`);
  }
  if (hasData && !values.force) {
    const answer = await io.prompt(`replace the station in ${dataDir} with this backup? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("restore cancelled; nothing was changed");
  }
  installBackup(io.platform, dataDir, file);
  writeFileSync(join(dataDir, "station-id"), `${backup.stationId}\n`, { mode: 0o640 });
  writePrivateFile(join(dataDir, "jwt-secret"), `${backup.jwtSecret}\n`);
  const when = backup.createdAt ? new Date(backup.createdAt).toISOString() : "unknown time";
  io.stdout(
    `restored station ${backup.stationId} from ${when}: ${backup.users} users, ${backup.devices} devices; start it with 'opengenie serve'\n`,
  );
  return exit(0);
}
