import { type AuthService, createAuthService } from "../auth/index.ts";
import { ConfigError, completeConfig, loadConfig, type StationConfig } from "../config/index.ts";
import { createSystemClock, StationError } from "../core/index.ts";
import { openDatabase, type StationDatabase } from "../storage/index.ts";
import type { CliIo } from "./cli-io.ts";
import { CliError } from "./cli-io.ts";

/**
 * Opens the data dir's database directly, for commands that must work whether or not a station
 * is running (`user add`, `token create`, `device add`); SQLite's WAL and busy timeout make
 * sharing the file with a running station safe.
 */
export async function withDataDir<T>(
  io: CliIo,
  flags: Record<string, string | boolean | undefined>,
  fn: (db: StationDatabase, config: StationConfig) => Promise<T>,
): Promise<T> {
  let config: StationConfig;
  try {
    config = completeConfig(
      loadConfig({ flags: { "data-dir": flags["data-dir"] as string | undefined }, env: io.env }),
      io.isTTY,
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  const database = await openDatabase(io.platform, config.dataDir, {
    databaseUrl: config.databaseUrl,
    poolMax: config.databasePoolMax,
  });
  try {
    return await fn(database, config);
  } catch (err) {
    // A refusal from a service (unknown user, duplicate name) is the user's to fix: one line.
    if (err instanceof StationError) throw new CliError(err.message);
    throw err;
  } finally {
    await database.close();
  }
}

/** The auth service on the data dir's database, for commands that manage users and tokens. */
export function withOfflineAuth<T>(
  io: CliIo,
  flags: Record<string, string | boolean | undefined>,
  fn: (auth: AuthService, database: StationDatabase, config: StationConfig) => Promise<T>,
): Promise<T> {
  return withDataDir(io, flags, (database, config) =>
    fn(
      createAuthService({
        db: database.db,
        platform: io.platform,
        clock: createSystemClock(),
        jwtSecret: config.jwtSecret,
      }),
      database,
      config,
    ),
  );
}
