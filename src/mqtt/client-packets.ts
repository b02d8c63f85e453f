/**
 * What the broker answers to each packet of a connected client (MQTT 3.1.1 sections 3.3–3.14);
 * the CONNECT handshake before it is broker-connection.ts's.
 */
import { Buffer } from "node:buffer";
import type { Connection } from "./broker-connection.ts";
import type { BrokerMessage } from "./broker-sessions.ts";
import type { Packet } from "./mqtt-wire.ts";
import { isValidFilter, isValidTopic, type QoS } from "./topic-index.ts";

/** QoS 2 PUBLISHes received and not yet released (PUBREL) per session. */
const MAX_AWAITING_RELEASE = 100;

export function handleClientPacket(connection: Connection, packet: Packet): void {
  const session = connection.session!;
  switch (packet.cmd) {
    case "publish": {
      handlePublish(connection, packet);
      return;
    }
    case "puback":
      session.acknowledge(packet.messageId!);
      return;
    case "pubrel":
      session.awaitingRelease?.delete(packet.messageId!);
      connection.send({ cmd: "pubcomp", messageId: packet.messageId! });
      return;
    case "pubrec":
    case "pubcomp":
      // This broker grants QoS 1 at most, so it never sends a QoS 2 PUBLISH to answer.
      return;
    case "subscribe": {
      handleSubscribe(connection, packet);
      return;
    }
    case "unsubscribe":
      for (const filter of packet.unsubscriptions) connection.host.unsubscribe(connection, filter);
      connection.send({ cmd: "unsuback", messageId: packet.messageId! } as Packet);
      return;
    case "pingreq":
      connection.send({ cmd: "pingresp" });
      return;
    case "disconnect":
      connection.disconnected = true;
      connection.will = undefined;
      connection.shutdown();
      return;
    default: {
      // A second CONNECT (MQTT-3.1.0-2) or a packet only a server sends.
      connection.violation(`unexpected ${packet.cmd}`);
      return;
    }
  }
}

function handlePublish(connection: Connection, packet: Extract<Packet, { cmd: "publish" }>): void {
  const session = connection.session!;
  if (!isValidTopic(packet.topic)) {
    connection.violation("invalid topic");
    return;
  }
  const qos = packet.qos as QoS;
  if (qos === 2 && session.awaitingRelease?.has(packet.messageId!)) {
    // A resent QoS 2 PUBLISH already routed: acknowledged again, not delivered twice.
    connection.send({ cmd: "pubrec", messageId: packet.messageId! });
    return;
  }
  // A retained payload outlives the chunk it arrived in: copied, so it does not keep the chunk.
  const payload =
    packet.retain || !Buffer.isBuffer(packet.payload) ? Buffer.from(packet.payload) : packet.payload;
  const message: BrokerMessage = { topic: packet.topic, payload, qos, retain: packet.retain };
  if (!connection.host.publishFrom(connection, message)) {
    connection.violation("publish not authorized");
    return;
  }
  if (qos === 1) connection.send({ cmd: "puback", messageId: packet.messageId! });
  else if (qos === 2) {
    session.awaitingRelease ??= new Set();
    if (session.awaitingRelease.size >= MAX_AWAITING_RELEASE) {
      connection.violation("too many QoS 2 in flight");
      return;
    }
    session.awaitingRelease.add(packet.messageId!);
    connection.send({ cmd: "pubrec", messageId: packet.messageId! });
  }
}

function handleSubscribe(connection: Connection, packet: Extract<Packet, { cmd: "subscribe" }>): void {
  const granted: number[] = [];
  const accepted: Array<{ filter: string; qos: QoS }> = [];
  for (const { topic, qos } of packet.subscriptions) {
    const result = isValidFilter(topic) ? connection.host.subscribe(connection, topic, qos as QoS) : 0x80;
    granted.push(result);
    if (result !== 0x80) accepted.push({ filter: topic, qos: result });
  }
  connection.send({ cmd: "suback", messageId: packet.messageId!, granted });
  // Retained messages follow the SUBACK (MQTT-3.3.1-6).
  if (accepted.length > 0) connection.host.retainedFor(connection, accepted);
}
