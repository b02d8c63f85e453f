/**
 * An MQTT session on the embedded broker: what a client id subscribed to and the QoS 1
 * messages it has not acknowledged yet, kept across connections when the client asked for a
 * persistent session (clean session 0, MQTT 3.1.1 section 3.1.2.4).
 */
import type { Buffer } from "node:buffer";
import type { Connection } from "./broker-connection.ts";
import type { QoS } from "./topic-index.ts";

export interface BrokerMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
}

/** A message on its way to one session: its packet id once it has been sent. */
export interface Outgoing {
  message: BrokerMessage;
  qos: QoS;
  messageId: number | undefined;
}

export class Session {
  readonly subscriptions = new Map<string, QoS>();
  /** QoS ≥ 1 messages not acknowledged yet, oldest first: sent ones carry their packet id. */
  readonly pending: Outgoing[] = [];
  /** Packet ids of QoS 2 PUBLISHes received and not yet released (PUBREL); made on first use. */
  awaitingRelease: Set<number> | undefined;
  /** The connection using the session, while there is one. */
  conn: Connection | undefined;
  #nextId = 0;

  constructor(
    readonly clientId: string,
    public clean: boolean,
  ) {}

  /** A packet id no unacknowledged message of this session uses (MQTT-2.3.1-2). */
  nextMessageId(): number {
    for (;;) {
      this.#nextId = (this.#nextId % 65535) + 1;
      const id = this.#nextId;
      if (!this.pending.some((out) => out.messageId === id)) return id;
    }
  }

  /** Removes the message acknowledged by a PUBACK; false when no such id was outstanding. */
  acknowledge(messageId: number): boolean {
    const i = this.pending.findIndex((out) => out.messageId === messageId);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    return true;
  }

  /** Nothing worth keeping once the connection is gone. */
  get empty(): boolean {
    return this.subscriptions.size === 0 && this.pending.length === 0 && !this.awaitingRelease?.size;
  }
}
