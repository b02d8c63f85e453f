/**
 * Test-only: one owner for every broker, socket and client a test starts, so `close()`
 * tears all of it down and no test depends on another's order or on a fixed port.
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Aedes, type Client } from "aedes";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { createMemoryLogger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import { createEmbeddedBroker, type EmbeddedBroker } from "./embedded-broker.ts";
import { mayDevicePublish, mayDeviceSubscribe } from "./mqtt-device-acl.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

export const STATION_ID = "st1";
/** The station's login on the external test broker (the embedded one has no such login). */
export const STATION_LOGIN = { username: "opengenie", password: "station-secret" };
export const DEVICE_PASSWORDS: Record<string, string> = { lamp1: "pw-lamp1", lamp2: "pw-lamp2" };

export interface TestBroker {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export interface MqttHarness<B extends TestBroker = EmbeddedBroker> {
  broker: B;
  port: number;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Starts another broker (e.g. on a fixed port) that `close()` also stops. */
  startBroker(port: number): Promise<B>;
  connect(options: IClientOptions): Promise<MqttClient>;
  connectDevice(deviceId: string, options?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

async function createHarness<B extends TestBroker>(
  newBroker: (port: number, logger: ReturnType<typeof createMemoryLogger>) => B,
): Promise<MqttHarness<B>> {
  const logger = createMemoryLogger();
  const brokers: B[] = [];
  const clients: MqttClient[] = [];
  const track = (port: number) => {
    const broker = newBroker(port, logger);
    brokers.push(broker);
    return broker;
  };

  const broker = track(0);
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
      const extra = track(onPort);
      await extra.start();
      return extra;
    },
    connect,
    connectDevice: (deviceId, options) =>
      connect({ clientId: deviceId, username: deviceId, password: DEVICE_PASSWORDS[deviceId], ...options }),
    async close() {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      for (const b of brokers) await b.stop();
    },
  };
}

/**
 * The embedded broker, as the station runs it, on the given platform's TCP server; the
 * station's side is `stationSide()`.
 */
export function createMqttHarness(listenTcp: Platform["listenTcp"]): Promise<MqttHarness<EmbeddedBroker>> {
  return createHarness((port, logger) =>
    createEmbeddedBroker({
      host: "127.0.0.1",
      port,
      listenTcp,
      logger,
      stationId: STATION_ID,
      authenticateDevice: async (deviceId, password) => DEVICE_PASSWORDS[deviceId] === password,
    }),
  );
}

/** The station's own in-process client of an embedded broker, started. */
export async function stationSide(broker: EmbeddedBroker): Promise<StationMqttClient> {
  const client = broker.localClient();
  await client.start();
  return client;
}

/**
 * A stand-in for an external broker set up as docs/mosquitto.md says (a station login with
 * full access, devices limited to their own topics), for the station's TCP client: plain
 * aedes with the same per-device rules, on a node:net server.
 */
function createExternalTestBroker(port: number): TestBroker {
  let running: { aedes: Aedes; server: Server; sockets: Set<Socket> } | undefined;
  const devices = new WeakMap<Client, string>();
  return {
    async start() {
      const aedes = await Aedes.createBroker({
        authenticate(client, username, password, done) {
          const given = password?.toString("utf8");
          if (username === STATION_LOGIN.username && given === STATION_LOGIN.password)
            return done(null, true);
          if (username && DEVICE_PASSWORDS[username] === given) {
            devices.set(client, username);
            return done(null, true);
          }
          done(Object.assign(new Error("bad username or password"), { returnCode: 4 }), false);
        },
        authorizePublish(client, packet, done) {
          const deviceId = client ? devices.get(client) : undefined;
          if (deviceId !== undefined && !mayDevicePublish(STATION_ID, deviceId, packet.topic))
            return done(new Error("not authorized"));
          done(null);
        },
        authorizeSubscribe(client, subscription, done) {
          const deviceId = devices.get(client);
          if (deviceId !== undefined && !mayDeviceSubscribe(STATION_ID, deviceId, subscription.topic))
            return done(null, null);
          done(null, subscription);
        },
      });
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        aedes.handle(socket);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
      });
      running = { aedes, server, sockets };
      return { port: (server.address() as AddressInfo).port };
    },
    async stop() {
      const current = running;
      running = undefined;
      if (!current) return;
      const closed = new Promise<void>((resolve) => current.server.close(() => resolve()));
      await new Promise<void>((resolve) => current.aedes.close(() => resolve()));
      for (const socket of current.sockets) socket.destroy();
      await closed;
    },
  };
}

export function createExternalMqttHarness(): Promise<MqttHarness<TestBroker>> {
  return createHarness((port) => createExternalTestBroker(port));
}

type MessageSource = MqttClient | StationMqttClient;

/** Calls `handler` for every message `source` receives; returns the unsubscribe. */
function onMessages(source: MessageSource, handler: (topic: string, payload: Buffer) => void): () => void {
  if ("onMessage" in source) return source.onMessage(handler);
  source.on("message", handler);
  return () => source.off("message", handler);
}

/** Resolves with the next message on `topic` (exact match). */
export function nextMessage(source: MessageSource, topic: string): Promise<string> {
  return new Promise((resolve) => {
    const off = onMessages(source, (received, payload) => {
      if (received !== topic) return;
      off();
      resolve(payload.toString());
    });
  });
}

/** Collects every message a client receives, to assert that something never arrived. */
export function recordMessages(source: MessageSource): Array<{ topic: string; payload: string }> {
  const seen: Array<{ topic: string; payload: string }> = [];
  onMessages(source, (topic, payload) => seen.push({ topic, payload: payload.toString() }));
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
