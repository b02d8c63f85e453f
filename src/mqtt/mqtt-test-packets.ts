/**
 * Test-only: MQTT 3.1.1 packets written by hand, for tests that must send what no client
 * library would (a header announcing 200 MiB, a body that never ends) over a raw socket.
 */

/** The remaining length as MQTT 3.1.1 section 2.2.3 encodes it. */
export function encodeRemainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let x = length;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    bytes.push(byte);
  } while (x > 0);
  return Buffer.from(bytes);
}

/** A fixed header: packet type and flags, then the announced remaining length. */
export function fixedHeader(packetType: number, flags: number, remainingLength: number): Buffer {
  return Buffer.concat([Buffer.from([(packetType << 4) | flags]), encodeRemainingLength(remainingLength)]);
}

function utf8String(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

/** A CONNECT (section 3.1), clean session, MQTT 3.1.1. */
export function connectPacket(options: { clientId: string; username?: string; password?: string }): Buffer {
  const flags =
    0x02 | (options.username !== undefined ? 0x80 : 0) | (options.password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    utf8String("MQTT"),
    Buffer.from([4, flags, 0, 60]),
    utf8String(options.clientId),
    options.username !== undefined ? utf8String(options.username) : Buffer.alloc(0),
    options.password !== undefined ? utf8String(options.password) : Buffer.alloc(0),
  ]);
  return Buffer.concat([fixedHeader(1, 0, body.length), body]);
}

/**
 * The start of a QoS 1 PUBLISH (section 3.3) whose payload is `payloadLength` bytes: the fixed
 * header, topic and packet id. The payload itself is for the caller to stream.
 */
export function publishHead(topic: string, packetId: number, payloadLength: number): Buffer {
  const variable = Buffer.concat([utf8String(topic), Buffer.from([packetId >> 8, packetId & 0xff])]);
  return Buffer.concat([fixedHeader(3, 0x02, variable.length + payloadLength), variable]);
}

export const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00]);
export const PUBACK = 4;
