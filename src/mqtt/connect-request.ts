/**
 * What a CONNECT asks for (MQTT 3.1 and 3.1.1, section 3.1), checked before the credential is:
 * the protocol version, the client id, the keep-alive and the last will.
 */
import { Buffer } from "node:buffer";
import type { BrokerMessage } from "./broker-sessions.ts";
import type { Packet } from "./mqtt-wire.ts";
import { isValidTopic, type QoS } from "./topic-index.ts";

const CONNACK_UNACCEPTABLE_VERSION = 1;
const CONNACK_IDENTIFIER_REJECTED = 2;
/** MQTT 3.1 limits client ids to 23 bytes (3.1 section 3.1, as aedes checks). */
const MQTT31_MAX_CLIENT_ID = 23;

export type ConnectRequest =
  | { kind: "accept"; clientId: string; clean: boolean; keepaliveMs: number; will: BrokerMessage | undefined }
  /** Answered with a CONNACK carrying this code, then closed. */
  | { kind: "refuse"; returnCode: number }
  /** Closed without an answer. */
  | { kind: "violation"; reason: string };

export function readConnect(packet: Extract<Packet, { cmd: "connect" }>): ConnectRequest {
  const version = packet.protocolVersion ?? 4;
  if (version !== 3 && version !== 4) return { kind: "refuse", returnCode: CONNACK_UNACCEPTABLE_VERSION };
  const clientId = packet.clientId ?? "";
  if (clientId === "" && packet.clean === false)
    return { kind: "refuse", returnCode: CONNACK_IDENTIFIER_REJECTED };
  if (version === 3 && (clientId === "" || clientId.length > MQTT31_MAX_CLIENT_ID))
    return { kind: "refuse", returnCode: CONNACK_IDENTIFIER_REJECTED };
  let will: BrokerMessage | undefined;
  if (packet.will) {
    if (!isValidTopic(packet.will.topic)) return { kind: "violation", reason: "invalid will topic" };
    will = {
      topic: packet.will.topic,
      // A copy: the will outlives the chunk the CONNECT arrived in.
      payload: Buffer.from(packet.will.payload ?? Buffer.alloc(0)),
      qos: (packet.will.qos ?? 0) as QoS,
      retain: packet.will.retain ?? false,
    };
  }
  return {
    kind: "accept",
    clientId: clientId === "" ? `opengenie-${crypto.randomUUID()}` : clientId,
    clean: packet.clean !== false,
    keepaliveMs: (packet.keepalive ?? 0) * 1500,
    will,
  };
}
