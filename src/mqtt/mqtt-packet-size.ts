/**
 * How large an MQTT packet the embedded broker accepts. Sizes are read from the fixed header
 * before a body arrives (mqtt-wire.ts), so a connection ends the moment a packet claims more
 * than this instead of buffering it (issue 9, finding 2: a CONNECT announcing 200 MiB grew the
 * station by 150 MiB).
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

export type PacketSizeVerdict =
  | { ok: true }
  | { ok: false; reason: "too large"; packetType: number; announcedAtLeast: number; limit: number }
  | { ok: false; reason: "malformed remaining length"; packetType: number };
