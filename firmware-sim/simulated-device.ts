/**
 * A fake ESP32 speaking CONTRACT.md section 3 over a real MQTT connection, byte for byte as
 * firmware would: last will, handshake on every (re)connect, state + heartbeat after the ack,
 * command results, sensor timers. Used by tests, demos and load generation.
 */
import mqtt, { type MqttClient } from "mqtt";
import { createSystemClock, type TimerHandle } from "../src/core/index.ts";
import { createLogger } from "../src/logging/index.ts";
import { applyCommand, commandResult, initialState } from "./device-behaviours.ts";
import { connectRefusal, deviceConnectOptions, isSubscriptionRefusal } from "./device-connection.ts";
import { createDeviceOutbox } from "./device-outbox.ts";
import {
  CommandMessageSchema,
  deviceTopic,
  HandshakeAckSchema,
  handshakePayload,
  parseJsonPayload,
  type SimState,
} from "./device-protocol.ts";
import { createDeviceTimers } from "./device-timers.ts";
import { createRawMqttAccess } from "./raw-mqtt-access.ts";
import type {
  ReceivedCommand,
  SentState,
  SimulatedDevice,
  SimulatedDeviceOptions,
} from "./simulated-device-types.ts";

export type { ReceivedCommand, SentState, SimulatedDevice, SimulatedDeviceOptions };

export function createSimulatedDevice(options: SimulatedDeviceOptions): SimulatedDevice {
  const { deviceId, type } = options;
  const clock = options.clock ?? createSystemClock();
  const quiet = createLogger({ level: "error", format: "json", write: () => {} });
  const log = (options.logger ?? quiet).child({ deviceId });
  const topic = (suffix: string) => deviceTopic(options.stationId, deviceId, suffix);
  const commandListeners = new Set<(r: ReceivedCommand) => void>();
  if (options.onCommand) commandListeners.add(options.onCommand);

  let state: SimState = initialState(type);
  let firmwareVersion = options.firmwareVersion ?? "sim-1.0.0";
  const heartbeatSec = options.heartbeatSec ?? 30;
  const received: ReceivedCommand[] = [];
  let client: MqttClient | undefined;
  let ready = false;
  let stopped = false;
  let lastError: string | undefined;
  let startPromise: Promise<void> | undefined;
  let settleStart: { resolve: () => void; reject: (e: Error) => void } | undefined;

  const requireClient = () => {
    if (!client) throw new Error(`${deviceId}: not started`);
    return client;
  };
  const outbox = createDeviceOutbox(requireClient, topic, clock);
  if (options.onStateSent) outbox.onStateSent(options.onStateSent);
  const merge = (patch: SimState) => {
    state = { ...state, ...patch };
  };
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

  const finishStart = (error?: Error) => {
    const pending = settleStart;
    settleStart = undefined;
    timers.clearStartTimeout();
    if (error) pending?.reject(error);
    else pending?.resolve();
  };
  const shutdown = async (graceful: boolean) => {
    stopped = true;
    ready = false;
    clock.clearTimeout(handshakeRetry);
    timers.stopAll();
    const current = client;
    client = undefined;
    startPromise = undefined;
    // graceful = DISCONNECT, so no will; otherwise the socket dies like on a power cut.
    // Listeners stay attached: an 'error' emitted with none would throw.
    if (current) await current.endAsync(!graceful || !current.connected);
  };
  const failStart = (error: Error) => {
    if (!settleStart) return;
    finishStart(error);
    shutdown(true).catch((e) => log.warn("shutdown after failed start", { error: e }));
  };

  // Real firmware repeats an unanswered handshake: after a broker restart the station may
  // resubscribe only after the device's first handshake was published to nobody.
  let handshakeRetry: TimerHandle | undefined;
  const sendHandshake = () => {
    clock.clearTimeout(handshakeRetry);
    if (ready || stopped || !client?.connected) return;
    outbox
      .publishJson("handshake", handshakePayload(type, firmwareVersion, heartbeatSec))
      .catch((e) => log.warn("handshake publish failed", { error: e }));
    handshakeRetry = clock.setTimeout(sendHandshake, options.handshakeRetryMs ?? 3000);
  };

  const onConnect = () => {
    ready = false;
    // Handshake only after SUBACK, or the station's ack could arrive before we listen.
    client?.subscribe([topic("handshake/ack"), topic("command")], { qos: 1 }, (err) => {
      if (err) {
        const why = isSubscriptionRefusal(err) ? "the broker refused the subscription (ACL)" : err.message;
        return failStart(new Error(`${deviceId}: cannot subscribe to handshake/ack and command: ${why}`));
      }
      sendHandshake();
    });
  };

  const onAck = async (payload: Buffer) => {
    const ack = parseJsonPayload(HandshakeAckSchema, payload);
    if (!ack) return log.warn("ignoring malformed handshake/ack", { payload: payload.toString() });
    if (ack.status === "unknown_device") {
      log.error("station does not know this device");
      if (settleStart)
        return failStart(new Error(`${deviceId}: station answered handshake with unknown_device`));
      return shutdown(true); // a deleted device goes quiet instead of handshaking forever
    }
    ready = true;
    clock.clearTimeout(handshakeRetry);
    await outbox.sendState(state);
    await timers.sendHeartbeat();
    timers.startPeriodic();
    finishStart();
  };

  /** An ESP32 restart drops TCP without DISCONNECT, so the broker fires the last will. */
  const reboot = () => {
    ready = false;
    timers.stopPeriodic();
    timers.markBoot();
    client?.end(true, () => {
      if (!stopped) client?.reconnect();
    });
  };

  const onCommandMessage = async (payload: Buffer) => {
    const command = parseJsonPayload(CommandMessageSchema, payload);
    if (!command) return log.warn("ignoring malformed command", { payload: payload.toString() });
    const outcome = applyCommand(type, command, state, firmwareVersion);
    const entry = { command, result: commandResult(command.requestId, outcome), at: clock.now() };
    received.push(entry);
    for (const listener of commandListeners) listener(entry);
    await outbox.publishJson("command/result", entry.result);
    if (!outcome.ok) return;
    merge(outcome.patch);
    const effect = outcome.effect;
    if (effect?.kind === "ota_update") firmwareVersion = effect.firmwareVersion;
    // Reboots re-handshake and then publish the full state anyway.
    if (effect?.kind === "reboot" || effect?.kind === "ota_update") reboot();
    else await outbox.sendState(state);
  };

  const handlers = new Map([
    [topic("handshake/ack"), onAck],
    [topic("command"), onCommandMessage],
  ]);
  const onMessage = (messageTopic: string, payload: Buffer) => {
    handlers
      .get(messageTopic)?.(payload)
      .catch((e) => log.warn("message handling failed", { topic: messageTopic, error: e }));
  };

  const onError = (error: Error) => {
    const refusal = connectRefusal(deviceId, error);
    if (refusal) return failStart(refusal);
    lastError = error.message;
    log.warn("mqtt error", { error: error.message });
    if (options.reconnect === false) failStart(new Error(`${deviceId}: ${error.message}`));
  };

  const start = (): Promise<void> => {
    if (startPromise) return startPromise;
    stopped = false;
    startPromise = new Promise<void>((resolve, reject) => {
      settleStart = { resolve, reject };
      if (options.wifiOk === false) {
        return failStart(new Error(`${deviceId}: Wi-Fi unavailable (wifiOk=false), cannot reach the broker`));
      }
      const timeoutMs = options.startTimeoutMs ?? 10_000;
      timers.startTimeout(timeoutMs, () => {
        const why = lastError ? ` (last error: ${lastError})` : "";
        failStart(
          new Error(`${deviceId}: no handshake ack from ${options.url} within ${timeoutMs} ms${why}`),
        );
      });
      timers.markBoot();
      const willTopic = topic("heartbeat");
      const connectTimeoutMs = Math.min(timeoutMs, 10_000);
      client = mqtt.connect(options.url, deviceConnectOptions({ ...options, willTopic, connectTimeoutMs }));
      client.on("connect", onConnect);
      client.on("message", onMessage);
      client.on("error", onError);
      client.on("close", () => {
        ready = false;
        timers.stopPeriodic();
      });
    });
    return startPromise;
  };

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
      return client?.connected ?? false;
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
    ...createRawMqttAccess(requireClient, topic, clock),
    triggerMotion: () => timers.triggerMotion(),
    onCommand(listener) {
      commandListeners.add(listener);
      return () => commandListeners.delete(listener);
    },
    onStateSent: outbox.onStateSent,
  };
}
