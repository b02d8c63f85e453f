/**
 * Runs the BLE helper as a child process and keeps it running: parses its stdout lines,
 * restarts it with capped, jittered backoff when it dies, and reports whether BLE is usable.
 * A helper never crashes the station: garbage lines are counted and logged (STYLE.md).
 */
import { type BackoffOptions, backoffDelay, listen, type TimerHandle } from "../core/index.ts";
import type { SpawnedProcess } from "../platform/index.ts";
import type {
  BleBridgeError,
  BleBridgeProcess,
  BleBridgeProcessOptions,
  BleBridgeStatus,
  BleBridgeStatusChange,
} from "./ble-bridge-types.ts";
import {
  type BleHelperMessage,
  encodeCommand,
  parseHelperLine,
  unavailableErrorCodes,
} from "./ble-messages.ts";
import { type HelperChild, startHelperChild } from "./helper-child.ts";

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
    const change: BleBridgeStatusChange = { status, lastError, restart: restarting };
    if (next === "ready") restarting = false;
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
      if (unavailableErrorCodes.includes(message.code)) {
        markUnavailable({ code: message.code, message: message.message });
      } else log.warn("ble helper error", { code: message.code, reason: message.message });
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

  const onExit = (proc: SpawnedProcess, code: number, stderrTail: string[]) => {
    if (proc !== child) return; // stop() already let it go
    child = undefined;
    if (clock.now() - childStartedAt >= stableAfterMs) attempt = 0;
    const fields = { exitCode: code, stderr: stderrTail.join("\n") || undefined };
    if (status === "unavailable") log.debug("ble helper exited", fields);
    else log.warn("ble helper exited unexpectedly; restarting", fields);
    restarting = true;
    if (status !== "unavailable") setStatus("starting");
    scheduleRestart();
  };

  const spawnHelper = () => {
    if (status === "stopped") return;
    let started: HelperChild;
    try {
      started = startHelperChild({
        ...options,
        log,
        onLine: (line) => {
          if (started.process === child) onStdoutLine(line);
        },
        onOverflow: (bytes) => {
          garbageLines++;
          log.warn("dropped an over-long ble helper line", { bytes, garbageLines });
        },
      });
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
    child = started.process;
    childStartedAt = clock.now();
    void started.exit.then(({ code, stderrTail }) => onExit(started.process, code, stderrTail));
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
      return listen(messageHandlers, handler);
    },
    onStatus(handler) {
      return listen(statusHandlers, handler);
    },
  };
}
