/**
 * One client connection of the embedded broker (MQTT 3.1 and 3.1.1): its bytes cut into
 * packets, the CONNECT handshake, and its writes (client-packets.ts answers the packets of a
 * connected client). What outlives
 * the connection (subscriptions, unacknowledged messages) is its Session; routing is the
 * broker's (mqtt-broker-core.ts). One plain object per connection, no stream and no closure
 * per client (issue 17: aedes' client cost ≈ 22 KB per device).
 */
import { Buffer } from "node:buffer";
import type { TcpConnection, TcpConnectionHandlers } from "../platform/index.ts";
import type { BrokerClient, ConnectionHost } from "./broker-hooks.ts";
import type { BrokerMessage, Outgoing, Session } from "./broker-sessions.ts";
import { handleClientPacket } from "./client-packets.ts";
import { readConnect } from "./connect-request.ts";
import { encodePacket, type Packet, readFrames } from "./mqtt-wire.ts";
import type { QoS } from "./topic-index.ts";

/** Packets a client may send before its CONNACK (it is paused while its credential is checked). */
const MAX_PACKETS_BEFORE_CONNACK = 64;
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
      if (packet instanceof Error) this.violation(packet.message);
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
        this.violation("first packet is not CONNECT");
        return;
      }
      this.#connect(packet);
      return;
    }
    if (this.state === "connecting") {
      this.#held ??= [];
      if (this.#held.length >= MAX_PACKETS_BEFORE_CONNACK) {
        this.violation("too many packets before CONNACK");
        return;
      }
      this.#held.push(packet);
      return;
    }
    handleClientPacket(this, packet);
  }

  /** A protocol error: logged (at debug) and the connection closed. */
  violation(reason: string): void {
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
    const request = readConnect(packet);
    if (request.kind === "refuse") {
      refuse(request.returnCode);
      return;
    }
    if (request.kind === "violation") {
      this.violation(request.reason);
      return;
    }
    this.id = request.clientId;
    this.clean = request.clean;
    this.keepaliveMs = request.keepaliveMs;
    this.will = request.will;
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
      this.host.resendPending(this);
      this.tcp.resume();
      const held = this.#held;
      this.#held = undefined;
      for (const next of held ?? []) if (this.state === "connected") this.#receive(next);
    });
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
    if (this.#backlog > MAX_WRITE_BACKLOG_BYTES) this.violation("client does not read what it is sent");
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
}
