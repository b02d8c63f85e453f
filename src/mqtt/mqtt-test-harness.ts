/**
 * Test-only: one owner for every broker, socket and client a test starts, so `close()`
 * tears all of it down and no test depends on another's order or on a fixed port.
 */
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { createMemoryLogger } from "../logging/index.ts";
import { createEmbeddedBroker, type EmbeddedBroker } from "./embedded-broker.ts";

export const STATION_ID = "st1";
export const INTERNAL = { username: "opengenie-internal", password: "internal-secret" };
export const DEVICE_PASSWORDS: Record<string, string> = { lamp1: "pw-lamp1", lamp2: "pw-lamp2" };

export interface MqttHarness {
  broker: EmbeddedBroker;
  port: number;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Starts another broker (e.g. on a fixed port) that `close()` also stops. */
  startBroker(port: number): Promise<EmbeddedBroker>;
  connect(options: IClientOptions): Promise<MqttClient>;
  connectDevice(deviceId: string, options?: IClientOptions): Promise<MqttClient>;
  connectStation(): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function createMqttHarness(): Promise<MqttHarness> {
  const logger = createMemoryLogger();
  const brokers: EmbeddedBroker[] = [];
  const clients: MqttClient[] = [];

  function newBroker(port: number): EmbeddedBroker {
    const broker = createEmbeddedBroker({
      host: "127.0.0.1",
      port,
      logger,
      stationId: STATION_ID,
      authenticateDevice: async (deviceId, password) => DEVICE_PASSWORDS[deviceId] === password,
      internalCredential: INTERNAL,
    });
    brokers.push(broker);
    return broker;
  }

  const broker = newBroker(0);
  const { port } = await broker.start();

  async function connect(options: IClientOptions): Promise<MqttClient> {
    // reconnectPeriod 0: a refused CONNECT rejects instead of retrying forever.
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options }, false);
    clients.push(client);
    return client;
  }

  return {
    broker,
    port,
    logger,
    async startBroker(onPort) {
      const extra = newBroker(onPort);
      await extra.start();
      return extra;
    },
    connect,
    connectDevice: (deviceId, options) =>
      connect({ clientId: deviceId, username: deviceId, password: DEVICE_PASSWORDS[deviceId], ...options }),
    connectStation: () =>
      connect({ clientId: "station-test", username: INTERNAL.username, password: INTERNAL.password }),
    async close() {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      for (const b of brokers) await b.stop();
    },
  };
}

/** Resolves with the next message on `topic` (exact match). */
export function nextMessage(client: MqttClient, topic: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      client.off("message", onMessage);
      resolve(payload.toString());
    };
    client.on("message", onMessage);
  });
}

/** Collects every message a client receives, to assert that something never arrived. */
export function recordMessages(client: MqttClient): Array<{ topic: string; payload: string }> {
  const seen: Array<{ topic: string; payload: string }> = [];
  client.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  return seen;
}

/** Polls a condition the broker updates asynchronously (e.g. a counter); fails after `ms`. */
export async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
