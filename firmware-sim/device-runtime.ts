/**
 * The simulated ESP32 itself, whatever carries its messages (device-link.ts): handshake on
 * every (re)connect, repeated until acked; state + heartbeat after the ack; command →
 * command/result → state, with reboots and OTA updates re-handshaking; sensor timers; the
 * start() timeout. simulated-device.ts and ws-simulated-device.ts only add the transport.
 */
import { createSystemClock, listen, type TimerHandle } from "../src/core/index.ts";
import { createLogger } from "../src/logging/index.ts";
import { commandMessageSchema, handshakeAckSchema } from "../src/protocol/index.ts";
import { applyCommand, commandResult, initialState } from "./device-behaviours.ts";
import type { CreateDeviceLink, DeviceLinkHooks, DeviceRuntimeOptions } from "./device-link.ts";
import { createDeviceOutbox } from "./device-outbox.ts";
import { handshakePayload, type SimState } from "./device-protocol.ts";
import { createStartGate } from "./device-start.ts";
import { createDeviceTimers } from "./device-timers.ts";
import type { ReceivedCommand, SimulatedDevice } from "./simulated-device-types.ts";

export function createDeviceRuntime(
  options: DeviceRuntimeOptions,
  createLink: CreateDeviceLink,
): SimulatedDevice {
  const { deviceId, type } = options;
  const clock = options.clock ?? createSystemClock();
  const quiet = createLogger({ level: "error", format: "json", write: () => {} });
  const log = (options.logger ?? quiet).child({ deviceId, ...options.logFields });
  const commandListeners = new Set<(r: ReceivedCommand) => void>();
  if (options.onCommand) commandListeners.add(options.onCommand);

  let state: SimState = initialState(type);
  let firmwareVersion = options.firmwareVersion ?? "sim-1.0.0";
  const heartbeatSec = options.heartbeatSec ?? 30;
  const received: ReceivedCommand[] = [];
  let ready = false;
  let handshakeRetry: TimerHandle | undefined;
  const merge = (patch: SimState) => {
    state = { ...state, ...patch };
  };

  const hooks: DeviceLinkHooks = {
    opened: () => {
      ready = false;
      sendHandshake();
    },
    received: (suffix, body, shown = body) => {
      const handle = suffix === "handshake/ack" ? onAck : suffix === "command" ? onCommand : undefined;
      if (!handle) return log.warn("ignoring a message on an unknown topic", { topic: suffix });
      handle(body, shown).catch((error) => log.warn("message handling failed", { topic: suffix, error }));
    },
    closed: () => {
      ready = false;
      clock.clearTimeout(handshakeRetry);
      timers.stopPeriodic();
    },
    failStart,
    refused: (error) => {
      log.error(error.message);
      if (gate.pending) return failStart(error);
      shutdownQuietly(); // a removed device goes quiet instead of handshaking forever
    },
  };
  const link = createLink({ clock, log, hooks });
  const gate = createStartGate(() => timers.clearStartTimeout());
  const outbox = createDeviceOutbox(link.send, clock);
  if (options.onStateSent) outbox.onStateSent(options.onStateSent);
  const timers = createDeviceTimers({
    clock,
    log,
    type,
    heartbeatSec,
    random: options.random ?? Math.random,
    sensorIntervalMs: options.sensorIntervalMs ?? 10_000,
    motionHoldMs: options.motionHoldMs ?? 2_000,
    getState: () => state,
    merge,
    outbox,
  });

  function shutdown(graceful: boolean): Promise<void> {
    ready = false;
    gate.forget();
    clock.clearTimeout(handshakeRetry);
    timers.stopAll();
    return link.shutdown(graceful);
  }
  function shutdownQuietly() {
    shutdown(true).catch((error) => log.warn("shutdown failed", { error }));
  }

  function failStart(error: Error) {
    if (!gate.pending) return;
    gate.settle(error);
    shutdownQuietly();
  }

  // Real firmware repeats an unanswered handshake: the first one may race the station's
  // start-up, or go to a broker that has not resubscribed the station yet.
  function sendHandshake() {
    clock.clearTimeout(handshakeRetry);
    if (ready || !link.connected) return;
    outbox
      .publishJson("handshake", handshakePayload(type, firmwareVersion, heartbeatSec))
      .catch((error) => log.warn("handshake publish failed", { error }));
    handshakeRetry = clock.setTimeout(sendHandshake, options.handshakeRetryMs ?? 3000);
  }

  async function onAck(body: unknown, shown: unknown) {
    const ack = handshakeAckSchema.safeParse(body);
    if (!ack.success) return log.warn("ignoring malformed handshake/ack", { payload: shown });
    if (ack.data.status === "unknown_device") {
      return hooks.refused(new Error(`${deviceId}: station answered handshake with unknown_device`));
    }
    ready = true;
    clock.clearTimeout(handshakeRetry);
    await outbox.sendState(state);
    await timers.sendHeartbeat();
    timers.startPeriodic();
    gate.settle();
  }

  async function onCommand(body: unknown, shown: unknown) {
    const parsed = commandMessageSchema.safeParse(body);
    if (!parsed.success) return log.warn("ignoring malformed command", { payload: shown });
    const command = parsed.data;
    const outcome = applyCommand(type, command, state, firmwareVersion);
    const entry = { command, result: commandResult(command.requestId, outcome), at: clock.now() };
    received.push(entry);
    for (const listener of commandListeners) listener(entry);
    await outbox.publishJson("command/result", entry.result);
    if (!outcome.ok) return;
    merge(outcome.patch);
    const effect = outcome.effect;
    if (effect?.kind === "ota_update") firmwareVersion = effect.firmwareVersion;
    if (effect?.kind === "reboot" || effect?.kind === "ota_update") {
      // A restart re-handshakes and then sends the full state anyway.
      ready = false;
      timers.stopPeriodic();
      timers.markBoot();
      link.restart();
    } else await outbox.sendState(state);
  }

  function start(): Promise<void> {
    return gate.open(() => {
      if (options.wifiOk === false) {
        const why = `Wi-Fi unavailable (wifiOk=false), cannot reach the ${options.peer}`;
        return failStart(new Error(`${deviceId}: ${why}`));
      }
      const timeoutMs = options.startTimeoutMs ?? 10_000;
      timers.startTimeout(timeoutMs, () => {
        const why = link.lastError ? ` (last error: ${link.lastError})` : "";
        failStart(
          new Error(`${deviceId}: no handshake ack from ${options.url} within ${timeoutMs} ms${why}`),
        );
      });
      timers.markBoot();
      link.connect();
    });
  }

  return {
    deviceId,
    type,
    get state() {
      return state;
    },
    get firmwareVersion() {
      return firmwareVersion;
    },
    received,
    get connected() {
      return link.connected;
    },
    get ready() {
      return ready;
    },
    start,
    async stop({ graceful = true } = {}) {
      gate.settle(new Error(`${deviceId}: stopped before the handshake completed`));
      await shutdown(graceful);
    },
    async publishState(partial) {
      merge(partial);
      await outbox.sendState(partial);
    },
    publishEvent: outbox.sendEvent,
    ...link.raw,
    triggerMotion: () => timers.triggerMotion(),
    onCommand(listener) {
      return listen(commandListeners, listener);
    },
    onStateSent: outbox.onStateSent,
  };
}
