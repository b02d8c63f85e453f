/**
 * The MQTT broker the station runs when no `--mqtt-url` is given: aedes on a node:net server
 * (aedes needs a Node duplex stream; node:net works unchanged under Bun and Deno).
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import mqttPacket from "mqtt-packet";
import type { Logger } from "../logging/index.ts";
import {
  type BrokerGuard,
  type BrokerGuardDeps,
  createBrokerGuard,
  type RefusalCount,
} from "./embedded-broker-guard.ts";
import { createInProcessClient } from "./in-process-client.ts";
import {
  type ClientSessionStats,
  type ClientSessions,
  createClientSessions,
} from "./mqtt-client-sessions.ts";
import { mayDeviceSubscribe } from "./mqtt-device-acl.ts";
import { PacketSizeLimitedSocket } from "./packet-size-limited-socket.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

export interface EmbeddedBrokerDeps {
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  stationId: string;
  authenticateDevice(deviceId: string, password: string): Promise<boolean>;
  /** A device published a payload over 64 KiB on its own topic (refused; the core counts it). */
  onOversizedPublish?(
    deviceId: string,
  ): void /** Integration logins (Home Assistant): their scope and credential check. */;
  integrations?: BrokerGuardDeps["integrations"];
}

export interface EmbeddedBrokerStats extends ClientSessionStats {
  connectedClients: number;
  refusedConnects: number;
  refusedPublishes: number;
  refusedSubscribes: number;
  /** Every refusal so far, per kind and reason. */
  refusals: RefusalCount[];
  /** Connections ended because a packet announced more than the size limit. */
  oversizedPackets: number;
}

export interface EmbeddedBroker {
  /** Rejects with an Error whose `code` is e.g. "EADDRINUSE" when the port cannot be bound. */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  /** Closes every connection of a device at once and forgets its stored sessions (used when the device is deleted). */
  disconnectDevice(deviceId: string): void;
  stats(): EmbeddedBrokerStats;
  /** The station's own client, in this process (no TCP hop, no credential). */
  localClient(): StationMqttClient;
}

interface Running {
  aedes: Aedes;
  server: Server;
  guard: BrokerGuard;
  sessions: ClientSessions;
  sockets: Set<Socket>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

export function createEmbeddedBroker(deps: EmbeddedBrokerDeps): EmbeddedBroker {
  const logger = deps.logger.child({ component: "mqtt-broker" });
  let running: Running | undefined;
  let starting = false;
  let oversizedPackets = 0;

  async function start(): Promise<{ port: number }> {
    if (running || starting) throw new Error("embedded MQTT broker already started");
    starting = true;
    try {
      running = await open();
    } finally {
      starting = false;
    }
    const port = (running.server.address() as AddressInfo).port; // a TCP server always has one
    logger.info("embedded MQTT broker listening", { host: deps.host, port });
    return { port };
  }

  async function open(): Promise<Running> {
    // mqtt-packet (aedes' writer) otherwise builds, on its first write, a cache of 65,536
    // two-byte Buffers for message ids: ≈ 13 MB of JS heap for the life of the process, more
    // than 250 devices' connections. Without it a message id is one small Buffer per packet.
    mqttPacket.writeToStream.cacheNumbers = false;
    const sessions = createClientSessions({
      mayDeviceSubscribe: (deviceId, topic) => mayDeviceSubscribe(deps.stationId, deviceId, topic),
      onEvicted: (clientId, deviceId) => logger.info("mqtt stored session evicted", { clientId, deviceId }),
    });
    const guard = createBrokerGuard({ ...deps, logger, sessions });
    const aedes = await Aedes.createBroker({ ...guard.hooks, persistence: sessions.persistence });
    // Sockets are tracked so stop() can also end connections that never sent CONNECT;
    // server.close() alone would wait for them until aedes' 30 s connect timeout.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      // Packet sizes are checked on the raw bytes, before aedes' parser buffers a packet whole.
      const limited = new PacketSizeLimitedSocket(socket, (refusal) => {
        oversizedPackets++;
        logger.warn("mqtt connection closed", {
          remoteAddress: socket.remoteAddress,
          packetType: refusal.packetType,
          reason:
            refusal.reason === "too large"
              ? `packet announces over ${refusal.limit} bytes`
              : "malformed remaining length",
        });
      });
      aedes.handle(limited);
    });
    aedes.on("clientError", (client, error) => {
      logger.debug("mqtt client error", { clientId: client.id, error: error.message });
    });
    aedes.on("connectionError", (client, error) => {
      logger.debug("mqtt connection error", { clientId: client.id, error: error.message });
    });
    try {
      await listen(server, deps.port, deps.host);
    } catch (error) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    server.on("error", (error) => logger.error("mqtt server error", { error }));
    return { aedes, server, guard, sessions, sockets };
  }

  async function stop(): Promise<void> {
    const current = running;
    if (!current) return;
    running = undefined;
    const serverClosed = new Promise<void>((resolve) => current.server.close(() => resolve()));
    await new Promise<void>((resolve) => current.aedes.close(() => resolve()));
    for (const socket of current.sockets) socket.destroy();
    await serverClosed;
    current.server.removeAllListeners();
    current.aedes.removeAllListeners();
    logger.info("embedded MQTT broker stopped");
  }

  function disconnectDevice(deviceId: string): void {
    if (!running) return;
    const clients = running.guard.clientsOf(deviceId);
    for (const client of clients) client.close();
    running.sessions.dropDevice(deviceId);
    if (clients.length > 0)
      logger.info("mqtt device disconnected", { deviceId, connections: clients.length });
  }

  function stats(): EmbeddedBrokerStats {
    const refusals = running?.guard.refusals() ?? [];
    const total = (kind: RefusalCount["kind"]) =>
      refusals.filter((r) => r.kind === kind).reduce((sum, r) => sum + r.count, 0);
    const sessions = running?.sessions.stats() ?? {
      storedSessions: 0,
      queuedMessages: 0,
      evictedSessions: 0,
      droppedQueuedMessages: 0,
    };
    return {
      connectedClients: running?.aedes.connectedClients ?? 0,
      refusedConnects: total("connect"),
      refusedPublishes: total("publish"),
      refusedSubscribes: total("subscribe"),
      refusals,
      oversizedPackets,
      ...sessions,
    };
  }

  return {
    start,
    stop,
    disconnectDevice,
    stats,
    localClient: () => createInProcessClient(() => running?.aedes),
  };
}
