/**
 * Reads the size every MQTT packet announces before its body arrives, so the embedded broker
 * can end a connection the moment a packet claims more than it will ever accept instead of
 * buffering it (issue 9, finding 2: a CONNECT announcing 200 MiB grew the station by 150 MiB).
 *
 * Fixed header (MQTT 3.1.1 section 2.2, MQTT 5 section 2.1.4): one byte of packet type and
 * flags, then the remaining length as a variable byte integer of 1 to 4 bytes, 7 bits each,
 * least significant group first, the top bit set on every byte but the last.
 */

/** A device message is at most 64 KiB (CONTRACT.md section 2, "Hardening"). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface PacketSizeLimits {
  /** Largest remaining length accepted for any packet but CONNECT. */
  maxRemainingLength: number;
  /** Largest remaining length accepted for a CONNECT (it also carries the credentials and a will). */
  maxConnectRemainingLength: number;
}

/**
 * A 64 KiB payload plus its framing: 1 KiB for a PUBLISH's topic, packet id and MQTT 5
 * properties; 4 KiB for a CONNECT's client id, username, password and will topic besides a
 * will payload of up to 64 KiB.
 */
export const DEFAULT_PACKET_SIZE_LIMITS: PacketSizeLimits = {
  maxRemainingLength: MAX_PAYLOAD_BYTES + 1024,
  maxConnectRemainingLength: MAX_PAYLOAD_BYTES + 4096,
};

const CONNECT = 1;
/** Four bytes of seven bits: 268,435,455 is the largest length MQTT can announce. */
const MAX_LENGTH_BYTES = 4;

export type PacketSizeVerdict =
  | { ok: true }
  | { ok: false; reason: "too large"; packetType: number; announcedAtLeast: number; limit: number }
  | { ok: false; reason: "malformed remaining length"; packetType: number };

export interface PacketSizeTracker {
  /**
   * Follows the packet boundaries through the next bytes of the stream, however the stream
   * was cut into chunks. Once it returns a refusal the stream is to be closed; feeding more
   * after that is not meaningful.
   */
  feed(chunk: Uint8Array): PacketSizeVerdict;
}

export function createPacketSizeTracker(
  limits: PacketSizeLimits = DEFAULT_PACKET_SIZE_LIMITS,
): PacketSizeTracker {
  // Where the next byte belongs: a packet's first byte, its remaining length, or its body.
  let stage: "type" | "length" | "body" = "type";
  let packetType = 0;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let bodyLeft = 0;

  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (stage === "body") {
          // Bodies are skipped, not read: the cost is per packet, not per byte.
          const skipped = Math.min(bodyLeft, chunk.length - i);
          bodyLeft -= skipped;
          i += skipped;
          if (bodyLeft === 0) stage = "type";
          continue;
        }
        const byte = chunk[i++]!;
        if (stage === "type") {
          packetType = byte >> 4;
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          stage = "length";
          continue;
        }
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        // Later bytes only add: a partial length past the limit already decides.
        const limit = packetType === CONNECT ? limits.maxConnectRemainingLength : limits.maxRemainingLength;
        if (length > limit)
          return { ok: false, reason: "too large", packetType, announcedAtLeast: length, limit };
        if (byte & 0x80) {
          if (lengthBytes === MAX_LENGTH_BYTES)
            return { ok: false, reason: "malformed remaining length", packetType };
          continue;
        }
        bodyLeft = length;
        stage = bodyLeft === 0 ? "type" : "body";
      }
      return { ok: true };
    },
  };
}
