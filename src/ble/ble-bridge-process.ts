/**
 * Runs the BLE helper as a child process and keeps it running: parses its stdout lines,
 * restarts it with capped, jittered backoff when it dies, and reports whether BLE is usable.
 * A helper never crashes the station: garbage lines are counted and logged (STYLE.md).
 */
import {
  type BackoffOptions,
  backoffDelay,
  type Clock,
  type Service,
  type TimerHandle,
} from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform, SpawnedProcess } from "../platform/index.ts";
import {
  type BleCommand,
  type BleHelperErrorCode,
  type BleHelperMessage,
  encodeCommand,
  parseHelperLine,
  unavailableErrorCodes,
} from "./ble-messages.ts";
import { readLines } from "./line-reader.ts";

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

export const DEFAULT_BLE_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };

export function createBleBridgeProcess(options: BleBridgeProcessOptions): BleBridgeProcess {
  const { clock, command } = options;
  const log = options.logger.child({ component: "ble-bridge" });
  const backoff = options.backoff ?? DEFAULT_BLE_BACKOFF;
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const messageHandlers = new Set<(message: BleHelperMessage) => void>();
  const statusHandlers = new Set<(change: BleBridgeStatusChange) => void>();

  let status: BleBridgeStatus = "stopped";
  let lastError: BleBridgeError | undefined;
  let child: SpawnedProcess | undefined;
  let childStartedAt = 0;
  let restartTimer: TimerHandle | undefined;
  let attempt = 0;
  let restarting = false;
  let garbageLines = 0;
  let restarts = 0;

  const setStatus = (next: BleBridgeStatus) => {
    if (next === status) return;
    status = next;
    if (next === "ready") restarting = false;
    const change: BleBridgeStatusChange = { status, lastError, restart: restarting };
    for (const handler of [...statusHandlers]) {
      try {
        handler(change);
      } catch (error) {
        log.error("ble status handler threw", { error });
      }
    }
  };

  const markUnavailable = (error: BleBridgeError) => {
    lastError = error;
    if (status !== "unavailable") log.warn("BLE unavailable", { code: error.code, reason: error.message });
    setStatus("unavailable");
  };

  const dispatch = (message: BleHelperMessage) => {
    if (message.type === "ready") setStatus("ready");
    else if (message.type === "error") {
      if (unavailableErrorCodes.includes(message.code)) markUnavailable(message);
      else log.warn("ble helper error", { code: message.code, reason: message.message });
    } else if (message.type === "scan_started" && status === "unavailable") {
      setStatus("ready"); // BlueZ came back: the helper could scan again
    }
    for (const handler of [...messageHandlers]) {
      try {
        handler(message);
      } catch (error) {
        log.error("ble message handler threw", { error, type: message.type });
      }
    }
  };

  const onStdoutLine = (line: string) => {
    const message = parseHelperLine(line);
    if (message) return dispatch(message);
    garbageLines++;
    log.warn("ignored malformed ble helper line", { line: line.slice(0, 200), garbageLines });
  };

  const scheduleRestart = () => {
    const delay = backoffDelay(attempt++, backoff, options.random);
    log.debug("ble helper restart scheduled", { delayMs: delay, attempt });
    restartTimer = clock.setTimeout(() => {
      restartTimer = undefined;
      restarts++;
      spawnHelper();
    }, delay);
  };

  const onExit = (proc: SpawnedProcess, code: number, lastStderr: string[]) => {
    if (proc !== child) return; // stop() already let it go
    child = undefined;
    if (clock.now() - childStartedAt >= stableAfterMs) attempt = 0;
    const fields = { exitCode: code, stderr: lastStderr.join("\n") || undefined };
    if (status === "unavailable") log.debug("ble helper exited", fields);
    else log.warn("ble helper exited unexpectedly; restarting", fields);
    restarting = true;
    if (status !== "unavailable") setStatus("starting");
    scheduleRestart();
  };

  const spawnHelper = () => {
    if (status === "stopped") return;
    let proc: SpawnedProcess;
    try {
      proc = options.platform.spawn(command, { env: options.env });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      markUnavailable({
        code: "SPAWN_FAILED",
        message:
          `cannot run the BLE helper ${command[0]} (${reason}): install python3 and python3-bleak ` +
          "(apt-get install python3-bleak) or set OPENGENIE_BLE_BRIDGE",
      });
      restarting = true;
      scheduleRestart();
      return;
    }
    child = proc;
    childStartedAt = clock.now();
    log.debug("ble helper started", { pid: proc.pid, command });
    const lastStderr: string[] = [];
    const stdoutDone = readLines(proc.stdout, {
      onLine: (line) => {
        if (proc === child) onStdoutLine(line);
      },
      onOverflow: (bytes) => {
        garbageLines++;
        log.warn("dropped an over-long ble helper line", { bytes, garbageLines });
      },
    });
    const stderrDone = readLines(proc.stderr, {
      onLine: (line) => {
        log.debug("ble helper stderr", { line });
        lastStderr.push(line);
        if (lastStderr.length > 5) lastStderr.shift();
      },
    });
    // Exit is handled after both pipes drain, so its last lines (an error, a traceback) count.
    void Promise.all([proc.exited, stdoutDone, stderrDone]).then(([code]) => onExit(proc, code, lastStderr));
  };

  return {
    name: "ble-bridge",
    get status() {
      return status;
    },
    get lastError() {
      return lastError;
    },
    get garbageLines() {
      return garbageLines;
    },
    get restarts() {
      return restarts;
    },
    async start() {
      if (status !== "stopped") return;
      attempt = 0;
      restarting = false;
      setStatus("starting");
      spawnHelper();
    },
    async stop() {
      clock.clearTimeout(restartTimer);
      restartTimer = undefined;
      const proc = child;
      child = undefined;
      setStatus("stopped");
      messageHandlers.clear();
      statusHandlers.clear();
      if (!proc) return;
      proc.kill("SIGTERM");
      const escalate = clock.setTimeout(() => proc.kill("SIGKILL"), options.killTimeoutMs ?? 3_000);
      await proc.exited;
      clock.clearTimeout(escalate);
    },
    send(cmd) {
      if (!child) return false;
      try {
        child.writeStdin(encodeCommand(cmd));
        return true;
      } catch (error) {
        log.warn("could not write to the ble helper", { error, type: cmd.type });
        return false;
      }
    },
    onMessage(handler) {
      messageHandlers.add(handler);
      return () => messageHandlers.delete(handler);
    },
    onStatus(handler) {
      statusHandlers.add(handler);
      return () => statusHandlers.delete(handler);
    },
  };
}
