/**
 * The MQTT broker the station runs when no `--mqtt-url` is given: the broker core
 * (mqtt-broker-core.ts) with the station's rules (embedded-broker-guard.ts) on the platform's
 * TCP server (`Platform.listenTcp`: Bun's own sockets on Bun, node:net on Deno).
 */
import type { Logger } from "../logging/index.ts";
import type { Platform, TcpListener } from "../platform/index.ts";
import {
  type BrokerGuard,
  type BrokerGuardDeps,
  createBrokerGuard,
  type RefusalCount,
} from "./embedded-broker-guard.ts";
import { createInProcessClient } from "./in-process-client.ts";
import { type BrokerCore, createBrokerCore } from "./mqtt-broker-core.ts";
import {
  type ClientSessionStats,
  type ClientSessions,
  createClientSessions,
} from "./mqtt-client-sessions.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

export interface EmbeddedBrokerDeps {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The platform's TCP server. */
  listenTcp: Platform["listenTcp"];
  logger: Logger;
  stationId: string;
  authenticateDevice(deviceId: string, password: string): Promise<boolean>;
  /** A device published a payload over 64 KiB on its own topic (refused; the core counts it). */
  onOversizedPublish?(deviceId: string): void;
  /** Integration logins (Home Assistant): their scope and credential check. */
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
  core: BrokerCore;
  listener: TcpListener;
  guard: BrokerGuard;
  sessions: ClientSessions;
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
    const port = running.listener.port;
    logger.info("embedded MQTT broker listening", { host: deps.host, port });
    return { port };
  }

  async function open(): Promise<Running> {
    const sessions = createClientSessions({
      onEvicted: (clientId, deviceId) => logger.info("mqtt stored session evicted", { clientId, deviceId }),
    });
    const guard = createBrokerGuard({ ...deps, logger, sessions });
    const core = createBrokerCore({
      hooks: guard.hooks,
      sessions: sessions.policy,
      logger,
      // Packet sizes are checked on the fixed header, before a packet is buffered whole.
      onRefusedPacket(refusal, remoteAddress) {
        oversizedPackets++;
        logger.warn("mqtt connection closed", {
          remoteAddress,
          packetType: refusal.packetType,
          reason:
            refusal.reason === "too large"
              ? `packet announces over ${refusal.limit} bytes`
              : "malformed remaining length",
        });
      },
    });
    sessions.attach(core);
    try {
      const listener = await deps.listenTcp({ hostname: deps.host, port: deps.port }, core.accept);
      return { core, listener, guard, sessions };
    } catch (error) {
      core.close();
      throw error;
    }
  }

  async function stop(): Promise<void> {
    const current = running;
    if (!current) return;
    running = undefined;
    // node:net's close (Deno) waits for every open connection: they are closed first.
    const listenerClosed = current.listener.close();
    current.core.close();
    await listenerClosed;
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
      connectedClients: running?.core.connectedClients ?? 0,
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
    localClient: () => createInProcessClient(() => running?.core),
  };
}
