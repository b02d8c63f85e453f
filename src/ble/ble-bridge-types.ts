/** The public shape of the BLE helper supervisor: what the provisioning service programs against. */
import type { BackoffOptions, Clock, Service } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import type { BleCommand, BleHelperErrorCode, BleHelperMessage } from "./ble-messages.ts";

export type BleBridgeStatus = "stopped" | "starting" | "ready" | "unavailable";
/** The helper's own codes, plus SPAWN_FAILED when its command cannot be run at all. */
export interface BleBridgeError {
  code: BleHelperErrorCode | "SPAWN_FAILED";
  message: string;
}
export interface BleBridgeStatusChange {
  status: BleBridgeStatus;
  lastError?: BleBridgeError;
  /** True while recovering from an unexpected exit: on "ready", resume any scan in progress. */
  restart: boolean;
}

export interface BleBridgeProcessOptions {
  platform: Pick<Platform, "spawn">;
  command: string[];
  logger: Logger;
  clock: Clock;
  backoff?: BackoffOptions;
  random?: () => number;
  /** The helper's whole environment; omitted, it inherits the station's. */
  env?: Record<string, string | undefined>;
  /** A helper that ran at least this long before dying restarts after the shortest delay again. */
  stableAfterMs?: number;
  /** After SIGTERM, how long stop() waits before SIGKILL. */
  killTimeoutMs?: number;
}

export interface BleBridgeProcess extends Service {
  readonly status: BleBridgeStatus;
  readonly lastError: BleBridgeError | undefined;
  readonly garbageLines: number;
  readonly restarts: number;
  /** False when no helper is running to receive it (the command is dropped, not queued). */
  send(command: BleCommand): boolean;
  onMessage(handler: (message: BleHelperMessage) => void): () => void;
  onStatus(handler: (change: BleBridgeStatusChange) => void): () => void;
}
