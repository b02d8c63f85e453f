/**
 * MQTT packets on the embedded broker's connections: whole packets cut out of the byte stream
 * (their sizes checked on the fixed header, before a body is buffered), parsed and encoded by
 * mqtt-packet. One parser serves every connection: it is only ever given one whole packet, so
 * it keeps no state from one call to the next, and a connection holds at most the bytes of
 * the one packet it is receiving (issue 17: aedes kept a parser, a list and a stream per
 * connection).
 */
import { Buffer } from "node:buffer";
import mqttPacket, { type Packet } from "mqtt-packet";
import {
  DEFAULT_PACKET_SIZE_LIMITS,
  type PacketSizeLimits,
  type PacketSizeVerdict,
} from "./mqtt-packet-size.ts";

export type { Packet } from "mqtt-packet";

const CONNECT = 1;
/** Four bytes of seven bits: the most MQTT uses for a remaining length (section 2.2.3). */
const MAX_LENGTH_BYTES = 4;

export type Refusal = Exclude<PacketSizeVerdict, { ok: true }>;

export type Frame =
  | { kind: "packet"; end: number }
  | { kind: "incomplete" }
  | { kind: "refused"; refusal: Refusal };

/** Where the packet starting at `start` ends, if all of it is in `bytes`. */
export function nextFrame(
  bytes: Uint8Array,
  start: number,
  limits: PacketSizeLimits = DEFAULT_PACKET_SIZE_LIMITS,
): Frame {
  if (start >= bytes.length) return { kind: "incomplete" };
  const packetType = bytes[start]! >> 4;
  const limit = packetType === CONNECT ? limits.maxConnectRemainingLength : limits.maxRemainingLength;
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= MAX_LENGTH_BYTES; i++) {
    if (start + i >= bytes.length) return { kind: "incomplete" };
    const byte = bytes[start + i]!;
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    // Later bytes only add: a partial length past the limit already decides.
    if (length > limit)
      return {
        kind: "refused",
        refusal: { ok: false, reason: "too large", packetType, announcedAtLeast: length, limit },
      };
    if ((byte & 0x80) === 0) {
      const end = start + 1 + i + length;
      return end <= bytes.length ? { kind: "packet", end } : { kind: "incomplete" };
    }
  }
  return { kind: "refused", refusal: { ok: false, reason: "malformed remaining length", packetType } };
}

export type FramesRead = { ok: true; rest: Buffer | undefined } | { ok: false; refusal: Refusal };

/**
 * Cuts the whole packets out of what a connection received: `rest` (the start of a packet from
 * earlier chunks) followed by `chunk`. Each whole packet goes to `onPacket`, in order, until it
 * returns false; what is left is returned as the new rest (a copy, so no chunk is kept alive by
 * a small part of it). A header announcing more than the limits refuses the stream before any
 * of that packet's body is buffered.
 */
export function readFrames(
  rest: Buffer | undefined,
  chunk: Buffer,
  limits: PacketSizeLimits,
  onPacket: (bytes: Buffer) => boolean,
): FramesRead {
  const bytes = rest ? Buffer.concat([rest, chunk]) : chunk;
  let start = 0;
  for (;;) {
    const frame = nextFrame(bytes, start, limits);
    if (frame.kind === "refused") return { ok: false, refusal: frame.refusal };
    if (frame.kind === "incomplete") break;
    const packet = bytes.subarray(start, frame.end);
    start = frame.end;
    if (!onPacket(packet)) return { ok: true, rest: undefined };
  }
  return { ok: true, rest: start < bytes.length ? Buffer.from(bytes.subarray(start)) : undefined };
}

/** What the parser is told of the protocol: 3.1.1 framing for every packet but CONNECT. */
const PARSER_SETTINGS = Object.freeze({ protocolVersion: 4 });

export interface PacketParser {
  /** One whole packet (as `nextFrame` cut it) → the packet, or an Error saying what is wrong. */
  parse(bytes: Uint8Array): Packet | Error;
}

export function createPacketParser(): PacketParser {
  let parser = mqttPacket.parser();
  let parsed: Packet | undefined;
  let failure: Error | undefined;
  const listen = () => {
    parser.on("packet", (packet) => {
      parsed = packet;
    });
    parser.on("error", (error) => {
      failure = error;
    });
  };
  listen();
  return {
    parse(bytes) {
      parsed = undefined;
      failure = undefined;
      // After a CONNECT mqtt-packet keeps that packet as its settings (credentials included);
      // every packet is read as 3.1.1 frames, whoever connected last.
      (parser as unknown as { settings: object }).settings = PARSER_SETTINGS;
      parser.parse(
        Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
      );
      if (failure === undefined && parsed !== undefined) {
        (parser as unknown as { settings: object }).settings = PARSER_SETTINGS;
        return parsed;
      }
      // A parser that failed may hold a partial packet: start over with a new one.
      parser.removeAllListeners();
      parser = mqttPacket.parser();
      listen();
      return failure ?? new Error("incomplete packet");
    },
  };
}

// mqtt-packet otherwise builds, on its first write, a cache of 65,536 two-byte Buffers for
// message ids: ≈ 13 MB of JS heap for the life of the process. Without it a message id is one
// small Buffer per packet. A setting of the library, made once, when this module loads.
mqttPacket.writeToStream.cacheNumbers = false;

export function encodePacket(packet: Packet): Buffer {
  return mqttPacket.generate(packet);
}
