/**
 * What the embedded broker's parts expect of each other: the hooks that decide who may do what
 * (embedded-broker-guard.ts), the session policy (mqtt-client-sessions.ts), and the broker side
 * a connection calls into (mqtt-broker-core.ts for broker-connection.ts). Types only.
 */
import type { Buffer } from "node:buffer";
import type { Connection } from "./broker-connection.ts";
import type { BrokerMessage } from "./broker-sessions.ts";
import type { PacketSizeLimits } from "./mqtt-packet-size.ts";
import type { Packet, Refusal } from "./mqtt-wire.ts";
import type { QoS } from "./topic-index.ts";

/** What the broker's hooks see of a client. */
export interface BrokerClient {
  readonly id: string;
  readonly closed: boolean;
  /** Closes the connection (its last will is sent). */
  close(): void;
}

/** Why a CONNECT is refused: `returnCode` 2–5 goes into the CONNACK (else 5). */
export type ConnectRefusal = Error & { returnCode?: number };

export interface BrokerHooks {
  authenticate(
    client: BrokerClient,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: ConnectRefusal | null, ok: boolean) => void,
  ): void;
  /** May re-point `message` (topic, retain); an error refuses it (the client is disconnected). */
  authorizePublish(client: BrokerClient, message: BrokerMessage, done: (error: Error | null) => void): void;
  /** A null subscription is refused (SUBACK 0x80). */
  authorizeSubscribe(
    client: BrokerClient,
    subscription: { topic: string; qos: QoS },
    done: (error: Error | null, subscription: { topic: string; qos: QoS } | null) => void,
  ): void;
  /** What reaches a client of a message routed to it; null: nothing. */
  authorizeForward(client: BrokerClient, message: BrokerMessage): BrokerMessage | null;
  /** A client that was given to `authenticate` is gone. */
  clientClosed(client: BrokerClient): void;
}

/** How many persistent sessions a login keeps and how long their queues get. */
export interface SessionPolicy {
  readonly maxQueuedMessages: number;
  /** A persistent session holds subscriptions: it is kept, and may push out an older one. */
  remember(clientId: string): void;
  /** A persistent session is gone. */
  forget(clientId: string): void;
  /** A queued message was dropped to keep a stored session's queue bounded. */
  droppedQueued(): void;
}

/** The broker side a connection calls into. */
export interface ConnectionHost {
  readonly limits: PacketSizeLimits;
  parse(bytes: Uint8Array): Packet | Error;
  now(): number;
  /** Checks the credential: resolves with a CONNACK return code (0 = accepted). */
  authenticate(
    connection: Connection,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<number>;
  /** Registers an authenticated client: its session (stored one resumed); true if one was present. */
  register(connection: Connection): boolean;
  /** After CONNACK: a resumed session's unacknowledged messages, oldest first (MQTT-4.4.0-1). */
  resendPending(connection: Connection): void;
  /** A client's PUBLISH: authorized (false = drop the connection), then routed. */
  publishFrom(connection: Connection, message: BrokerMessage): boolean;
  subscribe(connection: Connection, filter: string, qos: QoS): QoS | 0x80;
  /** Starts sending the retained messages these filters match (after the SUBACK). */
  retainedFor(connection: Connection, filters: Array<{ filter: string; qos: QoS }>): void;
  /** Everything written has been sent: retained messages still to send may follow. */
  drained(connection: Connection): void;
  unsubscribe(connection: Connection, filter: string): void;
  /** The connection is gone: bookkeeping and its will (unless it said DISCONNECT). */
  closed(connection: Connection): void;
  refusedPacket(connection: Connection, refusal: Refusal): void;
  protocolError(connection: Connection, reason: string): void;
}
