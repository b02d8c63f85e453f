/**
 * The station's own MQTT connection (to the embedded broker or `--mqtt-url`), wrapping MQTT.js
 * with a persistent session, QoS 1 and capped jittered reconnects driven by the injected clock.
 */
import { connect, type IConnackPacket, type IPublishPacket, type MqttClient, Store } from "mqtt";
import {
  type BackoffOptions,
  backoffDelay,
  type Clock,
  createSystemClock,
  listen,
  type TimerHandle,
} from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import { parseMqttUrl } from "./mqtt-url.ts";

export interface StationMqttClientDeps {
  /** mqtt:// or mqtts://, optionally with user:password@. */
  url: string;
  clientId: string;
  /** Override credentials given in the URL. */
  username?: string;
  password?: string;
  logger: Logger;
  clock?: Clock;
  /** How long start() waits for the first connection. Default 10 s. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** A retained last will the broker publishes if the connection drops without a DISCONNECT. */
  will?: { topic: string; payload: string };
  /**
   * Hold each QoS 1 PUBACK until the promises the message handlers returned settle (the
   * message is durably stored), so the broker redelivers what a crash left unacknowledged.
   */
  deferAcks?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1;
  /** Kept by the broker for later subscribers; an empty payload clears a retained message. */
  retain?: boolean;
}

/** `redelivered`: the broker sent it before and had no PUBACK (the MQTT DUP flag). */
export type MessageHandler = (topic: string, payload: Buffer, info: { redelivered: boolean }) => unknown;
export type StatusHandler = (connected: boolean) => void;

export interface StationMqttClient {
  /** Resolves on the first CONNACK; rejects (and cleans up) after `connectTimeoutMs`. */
  start(): Promise<void>;
  /** Sends a clean DISCONNECT and removes every listener and timer. */
  stop(): Promise<void>;
  readonly connected: boolean;
  /** Returns a function that removes the handler. */
  onMessage(handler: MessageHandler): () => void;
  onStatus(handler: StatusHandler): () => void;
  /** Remembered and re-sent after reconnects; rejects if the broker refuses a topic. */
  subscribe(topics: string[]): Promise<void>;
  publish(topic: string, payload: object | string, options?: PublishOptions): Promise<void>;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

export function createStationMqttClient(deps: StationMqttClientDeps): StationMqttClient {
  const clock = deps.clock ?? createSystemClock();
  const logger = deps.logger.child({ component: "mqtt-client" });
  const target = parseMqttUrl(deps.url);
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const messageHandlers = new Set<MessageHandler>();
  const statusHandlers = new Set<StatusHandler>();
  const wanted = new Set<string>();
  // Topics the broker has confirmed in the current session; cleared when the session is lost.
  const confirmed = new Set<string>();
  // The same stores across reconnects: MqttClient.reconnect() would otherwise replace them
  // and drop QoS 1 messages still waiting for their PUBACK. New per start(): end() closes them.
  let stores = { incomingStore: new Store(), outgoingStore: new Store() };
  let client: MqttClient | undefined;
  let reconnectTimer: TimerHandle | undefined;
  let attempt = 0;
  let lastLoggedError: string | undefined;
  let isConnected = false;
  let stopping = false;
  /** Counts CONNACKs: a PUBACK held across a reconnect is not sent on the new connection. */
  let connections = 0;

  function setStatus(connected: boolean) {
    if (connected === isConnected) return;
    isConnected = connected;
    for (const handler of statusHandlers) handler(connected);
  }

  /** Returns the topics the broker refused (SUBACK 0x80), which MQTT.js 5 reports as a rejection. */
  async function subscribeNow(mqtt: MqttClient, topics: string[]): Promise<string[]> {
    // One SUBSCRIBE per topic so each refusal maps to its topic without relying on batching.
    const outcomes = await Promise.all(
      topics.map((topic) =>
        mqtt.subscribeAsync(topic, { qos: 1 }).then(
          () => true,
          (error: Error & { packet?: { granted?: unknown[] } }) => {
            if (error.packet?.granted === undefined) throw error; // not a SUBACK: connection trouble
            return false;
          },
        ),
      ),
    );
    const refused = topics.filter((_, i) => !outcomes[i]);
    const granted = topics.filter((_, i) => outcomes[i]);
    for (const topic of granted) confirmed.add(topic);
    if (granted.length > 0) logger.debug("mqtt subscribed", { topics: granted });
    if (refused.length > 0) logger.error("mqtt subscription refused by broker", { topics: refused });
    return refused;
  }

  function onConnect(connack: IConnackPacket) {
    connections++;
    attempt = 0;
    lastLoggedError = undefined;
    if (!connack.sessionPresent) confirmed.clear();
    logger.info("mqtt connected", { url: target.brokerUrl, sessionPresent: connack.sessionPresent ?? false });
    setStatus(true);
    const missing = [...wanted].filter((topic) => !confirmed.has(topic));
    if (missing.length > 0 && client) {
      subscribeNow(client, missing).catch((error: Error) =>
        logger.warn("mqtt resubscribe failed", { error: error.message }),
      );
    }
  }

  function onClose() {
    if (isConnected && !stopping) logger.warn("mqtt connection lost", { url: target.brokerUrl });
    setStatus(false);
    if (stopping || reconnectTimer) return;
    const delay = backoffDelay(attempt, backoff);
    logger.debug("mqtt reconnect scheduled", { delayMs: delay, attempt });
    attempt++;
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopping) client?.reconnect(stores);
    }, delay);
  }

  function onError(error: Error) {
    // Each distinct error once per outage (e.g. a refused credential); identical retries are noise.
    const level = error.message === lastLoggedError ? "debug" : "warn";
    lastLoggedError = error.message;
    logger[level]("mqtt client error", { url: target.brokerUrl, error: error.message });
  }

  // QoS 1 messages whose PUBACK waits for their handlers (deferAcks), by packet id.
  const heldAcks = new Map<number, Promise<unknown>>();

  function onMessageEvent(topic: string, payload: Buffer, packet?: IPublishPacket) {
    const info = { redelivered: packet?.dup ?? false };
    const waits: Promise<unknown>[] = [];
    for (const handler of messageHandlers) {
      try {
        const result = handler(topic, payload, info);
        if (result instanceof Promise) waits.push(result);
      } catch (error) {
        // A consumer bug must not stop delivery to the others or break the connection.
        logger.error("mqtt message handler threw", { topic, error });
      }
    }
    if (deps.deferAcks && packet?.qos === 1 && packet.messageId !== undefined && waits.length > 0)
      heldAcks.set(packet.messageId, Promise.allSettled(waits));
  }

  /**
   * MQTT.js sends the PUBACK right after the 'message' event, and its own hook for deferring it
   * (customHandleAcks) stops reading the socket until then: one message at a time. Instead the
   * PUBACK packet itself waits here while the stream goes on reading.
   */
  function holdAcks(mqtt: MqttClient) {
    const internal = mqtt as unknown as {
      _sendPacket(packet: { cmd: string; messageId?: number }, cb?: () => void, ...rest: unknown[]): void;
    };
    // A private method (MQTT.js 5.x sends PUBACKs through it, handlers/publish.js): if an upgrade
    // renames it, refuse to start rather than acknowledge messages before they are stored.
    if (typeof internal._sendPacket !== "function")
      throw new Error("deferred MQTT acks need MQTT.js's _sendPacket, which this MQTT.js version lacks");
    const send = internal._sendPacket.bind(mqtt);
    internal._sendPacket = (packet, cb, ...rest) => {
      const held =
        packet.cmd === "puback" && packet.messageId !== undefined && heldAcks.get(packet.messageId);
      if (!held) return send(packet, cb, ...rest);
      heldAcks.delete(packet.messageId!);
      cb?.();
      const connection = connections;
      void held.then(() => {
        // After a reconnect the broker redelivers it (same session), maybe reusing the id: stale.
        if (client === mqtt && mqtt.connected && connection === connections) send(packet, undefined, ...rest);
      });
    };
  }

  function start(): Promise<void> {
    if (client) return Promise.reject(new Error("MQTT client already started"));
    stopping = false;
    let lastError: Error | undefined;
    stores = { incomingStore: new Store(), outgoingStore: new Store() };
    const mqtt = connect(target.brokerUrl, {
      clientId: deps.clientId,
      username: deps.username ?? target.username,
      password: deps.password ?? target.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0, // reconnects come from onClose, with backoff and the injected clock
      resubscribe: false, // onConnect resubscribes only when the session was lost
      connectTimeout: 10_000,
      ...(deps.will ? { will: { ...deps.will, qos: 1 as const, retain: true } } : {}),
      ...stores,
    });
    client = mqtt;
    if (deps.deferAcks) {
      try {
        holdAcks(mqtt);
      } catch (error) {
        client = undefined;
        mqtt.end(true);
        return Promise.reject(error);
      }
    }
    mqtt.on("connect", onConnect);
    mqtt.on("close", onClose);
    mqtt.on("error", onError);
    mqtt.on("message", onMessageEvent);
    const timeoutMs = deps.connectTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const noteError = (error: Error) => {
        lastError = error;
      };
      const timer = clock.setTimeout(() => {
        mqtt.off("connect", onFirst);
        mqtt.off("error", noteError);
        const reason = lastError ? `: ${lastError.message}` : "";
        stop().finally(() =>
          reject(
            new Error(`could not connect to MQTT broker ${target.brokerUrl} within ${timeoutMs} ms${reason}`),
          ),
        );
      }, timeoutMs);
      function onFirst() {
        clock.clearTimeout(timer);
        mqtt.off("error", noteError);
        resolve();
      }
      mqtt.once("connect", onFirst);
      mqtt.on("error", noteError);
    });
  }

  async function stop(): Promise<void> {
    stopping = true;
    clock.clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    const mqtt = client;
    client = undefined;
    if (!mqtt) return;
    // A clean DISCONNECT when connected, so the broker drops no will and keeps the session.
    await mqtt.endAsync(!mqtt.connected);
    mqtt.off("connect", onConnect);
    mqtt.off("close", onClose);
    mqtt.off("message", onMessageEvent);
    mqtt.off("error", onError);
    mqtt.on("error", () => {}); // a late socket error must not become an unhandled 'error' event
    setStatus(false);
  }

  return {
    start,
    stop,
    get connected() {
      return isConnected;
    },
    onMessage(handler) {
      return listen(messageHandlers, handler);
    },
    onStatus(handler) {
      return listen(statusHandlers, handler);
    },
    async subscribe(topics) {
      for (const topic of topics) wanted.add(topic);
      if (!client || !isConnected) return; // sent by onConnect
      const refused = await subscribeNow(client, topics);
      if (refused.length > 0) throw new Error(`MQTT broker refused subscription to ${refused.join(", ")}`);
    },
    async publish(topic, payload, options) {
      if (!client) throw new Error("MQTT client not started");
      const body = typeof payload === "string" ? payload : JSON.stringify(payload);
      await client.publishAsync(topic, body, { qos: options?.qos ?? 1, retain: options?.retain ?? false });
    },
  };
}
