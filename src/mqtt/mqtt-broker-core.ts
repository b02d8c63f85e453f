/**
 * The embedded broker's core: sessions by client id, routing a PUBLISH to the sessions and
 * in-process handlers whose filters match, retained messages, last wills and keep-alive.
 * Who may do what is decided by the hooks (embedded-broker-guard.ts); how many sessions a
 * login keeps, by the session policy (mqtt-client-sessions.ts). MQTT 3.1 and 3.1.1, QoS 0 and
 * 1 out (a QoS 2 subscription is granted QoS 1, MQTT-3.9.3), QoS 0, 1 and 2 in.
 */
import type { Logger } from "../logging/index.ts";
import type { TcpConnection, TcpConnectionHandlers } from "../platform/index.ts";
import { Connection } from "./broker-connection.ts";
import type { BrokerHooks, ConnectionHost, SessionPolicy } from "./broker-hooks.ts";
import { type BrokerMessage, type Outgoing, Session } from "./broker-sessions.ts";
import { createConnectionSweep } from "./connection-sweep.ts";
import { DEFAULT_PACKET_SIZE_LIMITS, type PacketSizeLimits } from "./mqtt-packet-size.ts";
import { createPacketParser, type Refusal } from "./mqtt-wire.ts";
import { pumpRetained, queueRetained, type RetainedCursor } from "./retained-pump.ts";
import { createRetainedStore } from "./retained-store.ts";
import { createTopicIndex, type QoS } from "./topic-index.ts";

export type { BrokerMessage } from "./broker-sessions.ts";

export interface BrokerCoreOptions {
  hooks: BrokerHooks;
  sessions: SessionPolicy;
  logger: Logger;
  limits?: PacketSizeLimits;
  /** A packet announced more than the limits: the connection is closed. */
  onRefusedPacket?(refusal: Refusal, remoteAddress: string | undefined): void;
  /** How long a connection may stay without CONNECT (30 s, as aedes and Mosquitto). */
  connectTimeoutMs?: number;
  now?: () => number;
}

type LocalHandler = (message: BrokerMessage) => void;
type Subscriber = Session | LocalHandler;

const RETAIN_FROM_STORE = true;
/**
 * Filters one session may hold: a device may hold two, Home Assistant about ten; past this a
 * SUBSCRIBE is refused (0x80) rather than growing the index without bound.
 */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 256;
const REFUSED = 0x80;

export function createBrokerCore(options: BrokerCoreOptions) {
  const { hooks, sessions: policy, logger } = options;
  const now = options.now ?? Date.now;
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const parser = createPacketParser();
  const index = createTopicIndex<Subscriber>();
  const retained = createRetainedStore();
  const sessions = new Map<string, Session>();
  const live = new Map<string, Connection>();
  const connections = createConnectionSweep({ now, connectTimeoutMs, logger });
  let closing = false;

  function discardSession(session: Session) {
    if (sessions.get(session.clientId) === session) sessions.delete(session.clientId);
    for (const filter of session.subscriptions.keys()) index.remove(filter, session);
    session.subscriptions.clear();
    session.pending.length = 0;
    if (!session.clean) policy.forget(session.clientId);
  }

  function enqueue(session: Session, out: Outgoing) {
    session.pending.push(out);
    if (session.pending.length <= policy.maxQueuedMessages) return;
    session.pending.shift();
    if (!session.clean) policy.droppedQueued();
  }

  function deliver(session: Session, message: BrokerMessage, qos: QoS, retain: boolean) {
    const connection = session.conn?.state === "connected" ? session.conn : undefined;
    if (qos === 0) {
      if (!connection) return;
      const forward = hooks.authorizeForward(connection, message);
      if (forward) connection.sendOutgoing({ message, qos, messageId: undefined }, forward, retain);
      return;
    }
    const out: Outgoing = { message, qos, messageId: undefined };
    enqueue(session, out);
    if (connection) {
      const forward = forwardable(connection, out);
      if (forward) connection.sendOutgoing(out, forward, retain);
    }
  }

  function forwardable(connection: Connection, out: Outgoing): BrokerMessage | null {
    const forward = hooks.authorizeForward(connection, out.message);
    if (!forward) {
      const pending = connection.session!.pending;
      const i = pending.indexOf(out);
      if (i >= 0) pending.splice(i, 1);
    }
    return forward;
  }

  /** Routes a message to every matching subscriber; retained ones are kept first. */
  function route(message: BrokerMessage) {
    if (message.retain) retained.store(message);
    for (const [subscriber, granted] of index.match(message.topic)) {
      if (typeof subscriber === "function") {
        try {
          subscriber(message);
        } catch (error) {
          logger.error("mqtt in-process handler failed", { topic: message.topic, error });
        }
        continue;
      }
      deliver(subscriber, message, Math.min(granted, message.qos) as QoS, false);
    }
  }

  function authorizedPublish(client: Connection, message: BrokerMessage): boolean {
    let allowed = false;
    // The guard answers synchronously; a later answer would reorder a device's messages.
    hooks.authorizePublish(client, message, (error) => {
      allowed = error === null;
    });
    if (allowed) route(message);
    return allowed;
  }

  const host: ConnectionHost = {
    limits: options.limits ?? DEFAULT_PACKET_SIZE_LIMITS,
    parse: (bytes) => parser.parse(bytes),
    now,
    authenticate(connection, username, password) {
      return new Promise((resolve) => {
        hooks.authenticate(connection, username, password, (error, ok) => {
          if (!error && ok) return resolve(0);
          const code = error?.returnCode;
          resolve(code !== undefined && code >= 2 && code <= 5 ? code : 5);
        });
      });
    },
    register(connection) {
      const id = connection.id;
      const previous = live.get(id);
      if (previous && previous !== connection) {
        // Takeover (MQTT-3.1.4-2): the old connection goes; its session stays for this one.
        previous.session = undefined;
        previous.shutdown();
      }
      let session = sessions.get(id);
      let present = false;
      if (connection.clean || session?.clean) {
        if (session) discardSession(session);
        session = undefined;
      } else if (session) {
        present = session.subscriptions.size > 0;
        if (present) policy.remember(id);
      }
      session ??= new Session(id, connection.clean);
      sessions.set(id, session);
      session.conn = connection;
      connection.session = session;
      live.set(id, connection);
      connection.registered = true;
      return present;
    },
    publishFrom: authorizedPublish,
    subscribe(connection, filter, qos) {
      let result: QoS | typeof REFUSED = REFUSED;
      hooks.authorizeSubscribe(connection, { topic: filter, qos }, (error, subscription) => {
        if (!error && subscription) result = Math.min(subscription.qos, 1) as QoS;
      });
      const session = connection.session!;
      if (session.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION && !session.subscriptions.has(filter))
        return REFUSED;
      if (result === REFUSED) return REFUSED;
      session.subscriptions.set(filter, result);
      index.add(filter, session, result);
      if (!session.clean) policy.remember(session.clientId);
      return result;
    },
    retainedFor(connection, filters) {
      queueRetained(connection, retainedMatches(filters));
      pumpRetained(connection, deliverRetained);
    },
    drained: (connection) => pumpRetained(connection, deliverRetained),
    unsubscribe(connection, filter) {
      const session = connection.session!;
      session.subscriptions.delete(filter);
      index.remove(filter, session);
    },
    resendPending(connection) {
      for (const out of [...connection.session!.pending]) {
        if (connection.state !== "connected") return;
        const forward = forwardable(connection, out);
        if (forward) connection.sendOutgoing(out, forward, false);
      }
    },
    closed(connection) {
      connections.remove(connection);
      if (live.get(connection.id) === connection) live.delete(connection.id);
      if (connection.authenticating) hooks.clientClosed(connection);
      const session = connection.session;
      connection.session = undefined;
      if (session) {
        session.conn = undefined;
        if (session.clean || session.empty) discardSession(session);
      }
      const will = connection.will;
      connection.will = undefined;
      if (will && connection.registered && !connection.disconnected && !closing)
        authorizedWill(connection, will);
    },
    refusedPacket(connection, refusal) {
      options.onRefusedPacket?.(refusal, connection.remoteAddress);
    },
    protocolError(connection, reason) {
      logger.debug("mqtt connection closed", { clientId: connection.id || undefined, reason });
    },
  };

  function* retainedMatches(filters: Array<{ filter: string; qos: QoS }>): RetainedCursor {
    for (const { filter, qos } of filters)
      for (const message of retained.matching(filter)) yield [message, Math.min(qos, message.qos) as QoS];
  }

  const deliverRetained = (session: Session, message: BrokerMessage, qos: QoS) =>
    deliver(session, message, qos, RETAIN_FROM_STORE);

  function authorizedWill(connection: Connection, will: BrokerMessage) {
    hooks.authorizePublish(connection, will, (error) => {
      if (!error) route(will);
    });
  }

  return {
    /** A new TCP connection: the handlers it reports to. */
    accept(tcp: TcpConnection): TcpConnectionHandlers {
      const connection = new Connection(tcp, host);
      if (closing) tcp.destroy();
      else connections.add(connection);
      return connection;
    },
    /** The station's own PUBLISH, in process: not subject to the device rules. */
    publish(message: BrokerMessage): void {
      route(message);
    },
    subscribe(filter: string, handler: LocalHandler): void {
      index.add(filter, handler, 1);
    },
    unsubscribe(filter: string, handler: LocalHandler): void {
      index.remove(filter, handler);
    },
    /** Forgets a client id's stored session and its queue (a persistent one's connection stays). */
    dropSession(clientId: string): void {
      const session = sessions.get(clientId);
      if (!session) return;
      // A connected one keeps what it has until it closes, and is not kept after.
      if (session.conn) session.clean = true;
      else discardSession(session);
    },
    get connectedClients(): number {
      return live.size;
    },
    queuedMessages(): number {
      let n = 0;
      for (const session of sessions.values()) if (!session.clean) n += session.pending.length;
      return n;
    },
    /** Ends every connection (no will is sent: the station is stopping) and the sweep. */
    close(): void {
      closing = true;
      // Gracefully: what was published just before the stop (Home Assistant's "offline") still
      // reaches the clients.
      for (const connection of connections.all()) connection.shutdown(true);
      connections.stop();
    },
  };
}

export type BrokerCore = ReturnType<typeof createBrokerCore>;
