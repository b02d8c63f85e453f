/**
 * The simulated ESP32 of simulated-device.ts, speaking `/ws/iot` instead of MQTT: the same
 * handshake → handshake/ack, state, event, heartbeat and command → command/result, the same
 * device behaviours and timers, the same public shape. Only the link differs (ws-transport.ts).
 */
import { createSystemClock, type TimerHandle } from "../src/core/index.ts";
import { createLogger } from "../src/logging/index.ts";
import { applyCommand, commandResult, initialState } from "./device-behaviours.ts";
import {
  CommandMessageSchema,
  HandshakeAckSchema,
  handshakePayload,
  type SimState,
} from "./device-protocol.ts";
import { createDeviceTimers } from "./device-timers.ts";
import type { ReceivedCommand, SimulatedDevice, SimulatedDeviceOptions } from "./simulated-device-types.ts";
import { createIotOutbox, createIotSocketTransport } from "./ws-transport.ts";

export interface WsSimulatedDeviceOptions
  extends Omit<SimulatedDeviceOptions, "url" | "stationId" | "clientIdSuffix"> {
  /** The station's HTTP/WebSocket address, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** Not on the wire (no topics over /ws/iot); kept so MQTT options can be reused as they are. */
  stationId?: string;
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
}

const noTopics = (what: string) => () =>
  Promise.reject(new Error(`${what}: /ws/iot has no topics; use the MQTT transport for ACL tests`));

export function createWsSimulatedDevice(options: WsSimulatedDeviceOptions): SimulatedDevice {
  const { deviceId, type } = options;
  const clock = options.clock ?? createSystemClock();
  const quiet = createLogger({ level: "error", format: "json", write: () => {} });
  const log = (options.logger ?? quiet).child({ deviceId, transport: "ws" });
  const commandListeners = new Set<(r: ReceivedCommand) => void>();
  if (options.onCommand) commandListeners.add(options.onCommand);

  let state: SimState = initialState(type);
  let firmwareVersion = options.firmwareVersion ?? "sim-1.0.0";
  const heartbeatSec = options.heartbeatSec ?? 30;
  const received: ReceivedCommand[] = [];
  let ready = false;
  let starting: Promise<void> | undefined;
  let settleStart: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let handshakeRetry: TimerHandle | undefined;
  const warn = (what: string) => (error: unknown) => log.warn(`${what} failed`, { error });
  const merge = (patch: SimState) => {
    state = { ...state, ...patch };
  };

  const link = createIotSocketTransport({
    url: options.url,
    deviceId,
    token: options.token,
    clock,
    log,
    random: options.random,
    WebSocketImpl: options.WebSocketImpl,
    fetchImpl: options.fetchImpl,
    reconnect:
      options.reconnect === false
        ? false
        : { initialMs: options.reconnectPeriodMs ?? 1_000, maxMs: 30_000, jitter: 0.2 },
    onOpen: () => sendHandshake(),
    onFrame: (topic, payload) => {
      if (topic === "handshake/ack") onAck(payload).catch(warn("handshake ack"));
      else if (topic === "command") onCommand(payload).catch(warn("command"));
      else log.warn("ignoring a frame on an unknown topic", { topic });
    },
    onClose: () => {
      ready = false;
      clock.clearTimeout(handshakeRetry);
      timers.stopPeriodic();
    },
    onRefused: (error) => {
      log.error(error.message);
      if (settleStart) finishStart(error);
      void shutdown(true);
    },
  });

  const outbox = createIotOutbox(link, clock);
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

  function finishStart(error?: Error) {
    const pending = settleStart;
    settleStart = undefined;
    timers.clearStartTimeout();
    if (error) pending?.reject(error);
    else pending?.resolve();
  }

  function shutdown(graceful: boolean): Promise<void> {
    ready = false;
    starting = undefined;
    clock.clearTimeout(handshakeRetry);
    timers.stopAll();
    return link.close(graceful);
  }

  // Repeated until acked, as firmware does: the first one may race the station's start-up.
  function sendHandshake() {
    clock.clearTimeout(handshakeRetry);
    if (ready || !link.connected) return;
    link.send("handshake", handshakePayload(type, firmwareVersion, heartbeatSec)).catch(warn("handshake"));
    handshakeRetry = clock.setTimeout(sendHandshake, options.handshakeRetryMs ?? 3000);
  }

  async function onAck(payload: unknown) {
    const ack = HandshakeAckSchema.safeParse(payload);
    if (!ack.success) return log.warn("ignoring malformed handshake/ack", { payload });
    if (ack.data.status === "unknown_device") {
      const error = new Error(`${deviceId}: station answered handshake with unknown_device`);
      log.error(error.message);
      if (settleStart) finishStart(error);
      return void shutdown(true); // a deleted device goes quiet instead of handshaking forever
    }
    ready = true;
    clock.clearTimeout(handshakeRetry);
    await outbox.sendState(state);
    await timers.sendHeartbeat();
    timers.startPeriodic();
    finishStart();
  }

  async function onCommand(payload: unknown) {
    const parsed = CommandMessageSchema.safeParse(payload);
    if (!parsed.success) return log.warn("ignoring malformed command", { payload });
    const command = parsed.data;
    const outcome = applyCommand(type, command, state, firmwareVersion);
    const entry = { command, result: commandResult(command.requestId, outcome), at: clock.now() };
    received.push(entry);
    for (const listener of commandListeners) listener(entry);
    await link.send("command/result", entry.result);
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
    if (starting) return starting;
    starting = new Promise<void>((resolve, reject) => {
      settleStart = { resolve, reject };
      if (options.wifiOk === false) {
        finishStart(new Error(`${deviceId}: Wi-Fi unavailable (wifiOk=false), cannot reach the station`));
        return void shutdown(true);
      }
      const timeoutMs = options.startTimeoutMs ?? 10_000;
      timers.startTimeout(timeoutMs, () => {
        finishStart(new Error(`${deviceId}: no handshake ack from ${options.url} within ${timeoutMs} ms`));
        void shutdown(true);
      });
      timers.markBoot();
      link.connect();
    });
    return starting;
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
      finishStart(new Error(`${deviceId}: stopped before the handshake completed`));
      await shutdown(graceful);
    },
    async publishState(partial) {
      merge(partial);
      await outbox.sendState(partial);
    },
    publishEvent: outbox.sendEvent,
    publishRaw: (suffix, payload) => link.sendRaw(`{"topic":${JSON.stringify(suffix)},"payload":${payload}}`),
    publishToTopic: noTopics("publishToTopic"),
    subscribeRaw: noTopics("subscribeRaw"),
    triggerMotion: () => timers.triggerMotion(),
    onCommand(listener) {
      commandListeners.add(listener);
      return () => commandListeners.delete(listener);
    },
    onStateSent: outbox.onStateSent,
  };
}
