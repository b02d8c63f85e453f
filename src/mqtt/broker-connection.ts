/**
 * One client connection of the embedded broker (MQTT 3.1 and 3.1.1): its bytes cut into
 * packets, the CONNECT handshake, and each packet a connected client may send. What outlives
 * the connection (subscriptions, unacknowledged messages) is its Session; routing is the
 * broker's (mqtt-broker-core.ts). One plain object per connection, no stream and no closure
 * per client (issue 17: aedes' client cost ≈ 22 KB per device).
 */
import { Buffer } from "node:buffer";
import type { TcpConnection, TcpConnectionHandlers } from "../platform/index.ts";
import type { BrokerMessage, Outgoing, Session } from "./broker-sessions.ts";
import type { PacketSizeLimits } from "./mqtt-packet-size.ts";
import { encodePacket, type Packet, type Refusal, readFrames } from "./mqtt-wire.ts";
import { isValidFilter, isValidTopic, type QoS } from "./topic-index.ts";

/** What the broker's hooks see of a client. */
export interface BrokerClient {
  readonly id: string;
  readonly closed: boolean;
  /** Closes the connection (its last will is sent). */
  close(): void;
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
  /** A client's PUBLISH: authorized (false = drop the connection), then routed. */
  publishFrom(connection: Connection, message: BrokerMessage): boolean;
  subscribe(connection: Connection, filter: string, qos: QoS): QoS | 0x80;
  /** Starts sending the retained messages these filters match (after the SUBACK). */
  retainedFor(connection: Connection, filters: Array<{ filter: string; qos: QoS }>): void;
  /** Everything written has been sent: retained messages still to send may follow. */
  drained(connection: Connection): void;
  unsubscribe(connection: Connection, filter: string): void;
  /** What the hooks let through of a pending message (null: dropped from the session). */
  forwardable(connection: Connection, out: Outgoing): BrokerMessage | null;
  /** The connection is gone: bookkeeping and its will (unless it said DISCONNECT). */
  closed(connection: Connection): void;
  refusedPacket(connection: Connection, refusal: Refusal): void;
  protocolError(connection: Connection, reason: string): void;
}

const CONNACK_UNACCEPTABLE_VERSION = 1;
const CONNACK_IDENTIFIER_REJECTED = 2;
/** MQTT 3.1 limits client ids to 23 bytes (3.1 section 3.1, as aedes checks). */
const MQTT31_MAX_CLIENT_ID = 23;
/** Packets a client may send before its CONNACK (it is paused while its credential is checked). */
const MAX_PACKETS_BEFORE_CONNACK = 64;
/** QoS 2 PUBLISHes received and not yet released (PUBREL) per session. */
const MAX_AWAITING_RELEASE = 100;
/**
 * Bytes queued for a client that does not read; past this it is disconnected. Room for a resumed
 * session's whole queue (100 messages of up to 64 KiB, resent at once on reconnect) besides live
 * traffic; retained messages after a SUBSCRIBE wait for the socket instead (mqtt-broker-core.ts).
 */
export const MAX_WRITE_BACKLOG_BYTES = 8 * 1024 * 1024;
/** How long a connection closed gracefully may take to send what was queued for it. */
const GRACEFUL_CLOSE_MS = 1000;

type State = "new" | "connecting" | "connected" | "closed";

export class Connection implements TcpConnectionHandlers, BrokerClient {
  id = "";
  clean = true;
  state: State = "new";
  session: Session | undefined;
  will: BrokerMessage | undefined;
  /** Sent DISCONNECT: the will is discarded (MQTT-3.14.4-3). */
  disconnected = false;
  /** Passed to authenticate: the hooks hear when it closes. */
  authenticating = false;
  /** Accepted (CONNACK 0): a will is sent when it goes without DISCONNECT. */
  registered = false;
  /** Retained messages still to send after a SUBSCRIBE, as the socket takes them. */
  retainedToSend: Iterator<[BrokerMessage, QoS]> | undefined;
  keepaliveMs = 0;
  lastActivity: number;
  readonly openedAt: number;
  #buffered: Buffer | undefined;
  #held: Packet[] | undefined;
  #backlog = 0;
  /** Packets answered while a chunk is read go out in one write once it is done. */
  #corked: Buffer[] | undefined;

  constructor(
    readonly tcp: TcpConnection,
    readonly host: ConnectionHost,
  ) {
    this.openedAt = host.now();
    this.lastActivity = this.openedAt;
  }

  get remoteAddress(): string | undefined {
    return this.tcp.remoteAddress;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  close(): void {
    this.shutdown();
  }

  // --- transport events -------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = this.host.now();
    this.#corked = [];
    const read = readFrames(this.#buffered, chunk, this.host.limits, (bytes) => {
      const packet = this.host.parse(bytes);
      if (packet instanceof Error) this.#violation(packet.message);
      else this.#receive(packet);
      return !this.closed;
    });
    if (!read.ok) {
      this.host.refusedPacket(this, read.refusal);
      this.shutdown();
    } else if (!this.closed) this.#buffered = read.rest;
    this.#flush();
  }

  onEnd(): void {
    // A half-closed client gets nothing more from us either (MQTT has no half-close).
    this.shutdown();
  }

  onClose(): void {
    this.shutdown();
  }

  onDrain(): void {
    this.#backlog = 0;
    if (this.retainedToSend) this.host.drained(this);
  }

  /** Some of what was written waits in user space for the socket. */
  get writeBlocked(): boolean {
    return this.#backlog > 0;
  }

  /**
   * Ends the connection; the broker's bookkeeping runs once, now. `graceful`: what was written
   * still goes out first (a refusal's CONNACK, the last messages before a stop: node:net, Deno's,
   * queues writes, and `destroy` would drop them), then the socket is closed; a peer that does
   * not read is cut off after GRACEFUL_CLOSE_MS.
   */
  shutdown(graceful = false): void {
    if (this.state === "closed") return;
    this.#flush();
    if (this.closed) return; // the flush found a client that does not read
    this.state = "closed";
    this.#buffered = undefined;
    this.#held = undefined;
    if (graceful) {
      const tcp = this.tcp;
      tcp.end();
      const cutOff = setTimeout(() => tcp.destroy(), GRACEFUL_CLOSE_MS);
      (cutOff as { unref?: () => void }).unref?.();
    } else this.tcp.destroy();
    this.host.closed(this);
  }

  // --- packets in -------------------------------------------------------------------------

  #receive(packet: Packet): void {
    if (this.state === "new") {
      if (packet.cmd !== "connect") {
        this.#violation("first packet is not CONNECT");
        return;
      }
      this.#connect(packet);
      return;
    }
    if (this.state === "connecting") {
      this.#held ??= [];
      if (this.#held.length >= MAX_PACKETS_BEFORE_CONNACK) {
        this.#violation("too many packets before CONNACK");
        return;
      }
      this.#held.push(packet);
      return;
    }
    const session = this.session!;
    switch (packet.cmd) {
      case "publish": {
        this.#publish(packet);
        return;
      }
      case "puback":
        session.acknowledge(packet.messageId!);
        return;
      case "pubrel":
        session.awaitingRelease?.delete(packet.messageId!);
        this.send({ cmd: "pubcomp", messageId: packet.messageId! });
        return;
      case "pubrec":
      case "pubcomp":
        // This broker grants QoS 1 at most, so it never sends a QoS 2 PUBLISH to answer.
        return;
      case "subscribe": {
        this.#subscribe(packet);
        return;
      }
      case "unsubscribe":
        for (const filter of packet.unsubscriptions) this.host.unsubscribe(this, filter);
        this.send({ cmd: "unsuback", messageId: packet.messageId! } as Packet);
        return;
      case "pingreq":
        this.send({ cmd: "pingresp" });
        return;
      case "disconnect":
        this.disconnected = true;
        this.will = undefined;
        this.shutdown();
        return;
      default: {
        // A second CONNECT (MQTT-3.1.0-2) or a packet only a server sends.
        this.#violation(`unexpected ${packet.cmd}`);
        return;
      }
    }
  }

  #violation(reason: string): void {
    this.host.protocolError(this, reason);
    this.shutdown();
  }

  #connect(packet: Extract<Packet, { cmd: "connect" }>): void {
    this.state = "connecting";
    const refuse = (returnCode: number) => {
      this.send({ cmd: "connack", returnCode, sessionPresent: false });
      this.host.protocolError(this, `CONNACK ${returnCode}`);
      this.shutdown(true);
    };
    const version = packet.protocolVersion ?? 4;
    if (version !== 3 && version !== 4) {
      refuse(CONNACK_UNACCEPTABLE_VERSION);
      return;
    }
    const clientId = packet.clientId ?? "";
    if (clientId === "" && packet.clean === false) {
      refuse(CONNACK_IDENTIFIER_REJECTED);
      return;
    }
    if (version === 3 && (clientId === "" || clientId.length > MQTT31_MAX_CLIENT_ID)) {
      refuse(CONNACK_IDENTIFIER_REJECTED);
      return;
    }
    this.id = clientId === "" ? `opengenie-${crypto.randomUUID()}` : clientId;
    this.clean = packet.clean !== false;
    this.keepaliveMs = (packet.keepalive ?? 0) * 1500;
    if (packet.will) {
      const will = packet.will;
      if (!isValidTopic(will.topic)) {
        this.#violation("invalid will topic");
        return;
      }
      this.will = {
        topic: will.topic,
        payload: Buffer.from(will.payload ?? Buffer.alloc(0)),
        qos: (will.qos ?? 0) as QoS,
        retain: will.retain ?? false,
      };
    }
    this.tcp.pause();
    this.authenticating = true;
    const password = packet.password === undefined ? undefined : Buffer.from(packet.password);
    this.host.authenticate(this, packet.username, password).then((returnCode) => {
      if (this.state !== "connecting") return;
      if (returnCode !== 0) {
        refuse(returnCode);
        return;
      }
      const sessionPresent = this.host.register(this);
      this.state = "connected";
      this.send({ cmd: "connack", returnCode: 0, sessionPresent });
      this.resendPending();
      this.tcp.resume();
      const held = this.#held;
      this.#held = undefined;
      for (const next of held ?? []) if (this.state === "connected") this.#receive(next);
    });
  }

  #publish(packet: Extract<Packet, { cmd: "publish" }>): void {
    const session = this.session!;
    if (!isValidTopic(packet.topic)) {
      this.#violation("invalid topic");
      return;
    }
    const qos = packet.qos as QoS;
    if (qos === 2 && session.awaitingRelease?.has(packet.messageId!)) {
      // A resent QoS 2 PUBLISH already routed: acknowledged again, not delivered twice.
      this.send({ cmd: "pubrec", messageId: packet.messageId! });
      return;
    }
    // A retained payload outlives the chunk it arrived in: copied, so it does not keep the chunk.
    const payload =
      packet.retain || !Buffer.isBuffer(packet.payload) ? Buffer.from(packet.payload) : packet.payload;
    const message: BrokerMessage = { topic: packet.topic, payload, qos, retain: packet.retain };
    if (!this.host.publishFrom(this, message)) {
      this.#violation("publish not authorized");
      return;
    }
    if (qos === 1) this.send({ cmd: "puback", messageId: packet.messageId! });
    else if (qos === 2) {
      session.awaitingRelease ??= new Set();
      if (session.awaitingRelease.size >= MAX_AWAITING_RELEASE) {
        this.#violation("too many QoS 2 in flight");
        return;
      }
      session.awaitingRelease.add(packet.messageId!);
      this.send({ cmd: "pubrec", messageId: packet.messageId! });
    }
  }

  #subscribe(packet: Extract<Packet, { cmd: "subscribe" }>): void {
    const granted: number[] = [];
    const accepted: Array<{ filter: string; qos: QoS }> = [];
    for (const { topic, qos } of packet.subscriptions) {
      const result = isValidFilter(topic) ? this.host.subscribe(this, topic, qos as QoS) : 0x80;
      granted.push(result);
      if (result !== 0x80) accepted.push({ filter: topic, qos: result });
    }
    this.send({ cmd: "suback", messageId: packet.messageId!, granted });
    // Retained messages follow the SUBACK (MQTT-3.3.1-6).
    if (accepted.length > 0) this.host.retainedFor(this, accepted);
  }

  // --- packets out ------------------------------------------------------------------------

  send(packet: Packet): void {
    if (this.state === "closed") return;
    const bytes = encodePacket(packet);
    if (this.#corked) this.#corked.push(bytes);
    else this.#write(bytes);
  }

  #flush(): void {
    const corked = this.#corked;
    this.#corked = undefined;
    if (!corked || corked.length === 0 || this.state === "closed") return;
    this.#write(corked.length === 1 ? corked[0]! : Buffer.concat(corked));
  }

  #write(bytes: Buffer): void {
    if (this.tcp.write(bytes)) return;
    this.#backlog += bytes.length;
    if (this.#backlog > MAX_WRITE_BACKLOG_BYTES) this.#violation("client does not read what it is sent");
  }

  /** Sends one message of the session; `forward` is what the hooks let through. */
  sendOutgoing(out: Outgoing, forward: BrokerMessage, retain: boolean): void {
    const session = this.session!;
    const resent = out.messageId !== undefined;
    if (out.qos > 0) out.messageId ??= session.nextMessageId();
    this.send({
      cmd: "publish",
      topic: forward.topic,
      payload: forward.payload,
      qos: out.qos,
      retain,
      dup: resent,
      ...(out.qos > 0 ? { messageId: out.messageId } : {}),
    } as Packet);
  }

  /** After CONNACK: a resumed session's unacknowledged messages, oldest first (MQTT-4.4.0-1). */
  resendPending(): void {
    const session = this.session!;
    for (const out of [...session.pending]) {
      if (this.state !== "connected") return;
      const forward = this.host.forwardable(this, out);
      if (forward) this.sendOutgoing(out, forward, false);
    }
  }
}
