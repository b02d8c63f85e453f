import type { AuthService } from "./auth/index.ts";
import type { Clock } from "./core/index.ts";
import type { DeviceService } from "./devices/index.ts";
import type { Logger } from "./logging/index.ts";
import type { StationModule } from "./station-module.ts";
import type { StationDatabase } from "./storage/index.ts";

/** The shapes src/station.ts (the composition root) works with. */
export interface StationOptions {
  logger: Logger;
  /** This process's id, recorded in station.json (the caller owns the process). */
  pid: number;
  clock?: Clock;
  /** Grace period announced to apps in the shutdown notice. */
  shutdownGraceMs?: number;
}

/** The core every module builds on: storage, accounts and the device core. */
export interface Core {
  database: StationDatabase;
  auth: AuthService;
  devices: DeviceService;
}

/** What has been started so far, so a failed start stops exactly that. */
export interface Running {
  database: StationDatabase;
  devices?: DeviceService;
  modules: readonly StationModule[];
}

/**
 * The composition root, the only place services are constructed and wired (STYLE.md,
 * docs/architecture.md): the core, then a plain list of station modules, started in order and
 * stopped in reverse. A new transport or consumer is one line in that list.
 */
