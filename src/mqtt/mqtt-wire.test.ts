/**
 * Cutting packets out of a connection's bytes (readFrames): whatever the chunking, valid
 * streams come out packet by packet, byte for byte; a header announcing more than the limits
 * refuses the stream in the chunk that holds it, before any of its body is kept.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { DEFAULT_PACKET_SIZE_LIMITS, type PacketSizeLimits } from "./mqtt-packet-size.ts";
import { fixedHeader } from "./mqtt-test-packets.ts";
import { createPacketParser, encodePacket, type Refusal, readFrames } from "./mqtt-wire.ts";

const { maxRemainingLength, maxConnectRemainingLength } = DEFAULT_PACKET_SIZE_LIMITS;
const CONNECT = 1;
/** The largest remaining length MQTT can encode (section 2.2.3). */
const MQTT_MAX_LENGTH = 268_435_455;

/** One packet: any type but CONNECT unless asked, a body of `length` bytes of filler. */
function packet(type: number, length: number): Buffer {
  const body = Buffer.alloc(length, (type * 31 + length) & 0xff);
  return Buffer.concat([fixedHeader(type, type === 3 ? 0x02 : 0, length), body]);
}

const validPacket = fc
  .tuple(
    fc.integer({ min: 1, max: 14 }),
    fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: maxRemainingLength })),
  )
  .map(([type, length]) => packet(type, length));

/** Cuts a buffer at random points, as TCP may deliver it. */
function cut(stream: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, stream.length]) {
    if (to > from) chunks.push(stream.subarray(from, to));
    from = to;
  }
  return chunks;
}

type Verdict = { ok: true } | Refusal;

/** Feeds chunks as a connection does: one verdict per chunk, none after a refusal. */
function reader(limits: PacketSizeLimits = DEFAULT_PACKET_SIZE_LIMITS) {
  let rest: Buffer | undefined;
  const packets: Buffer[] = [];
  return {
    packets,
    /** How many bytes wait for the rest of their packet. */
    pending: () => rest?.length ?? 0,
    feed(chunk: Buffer): Verdict {
      const read = readFrames(rest, chunk, limits, (bytes) => {
        packets.push(Buffer.from(bytes));
        return true;
      });
      if (!read.ok) return read.refusal;
      rest = read.rest;
      return { ok: true };
    },
  };
}

function feedAll(chunks: Buffer[]): Verdict[] {
  const r = reader();
  const verdicts: Verdict[] = [];
  for (const chunk of chunks) {
    const verdict = r.feed(chunk);
    verdicts.push(verdict);
    if (!verdict.ok) break;
  }
  return verdicts;
}

describe("readFrames: packet sizes", () => {
  test("the remaining length is read as section 2.2.3 encodes it, boundaries included", () => {
    // The spec's table: 0x7F, 0xFF 0x7F (16,383), 0x80 0x80 0x01 (16,384), then a next packet.
    const limits = { maxRemainingLength: 20_000, maxConnectRemainingLength: 20_000 };
    const tracker = reader(limits);
    expect(tracker.feed(Buffer.concat([Buffer.from([0x30, 0x7f]), Buffer.alloc(127)]))).toEqual({ ok: true });
    expect(tracker.feed(Buffer.concat([Buffer.from([0x30, 0xff, 0x7f]), Buffer.alloc(16_383)]))).toEqual({
      ok: true,
    });
    expect(
      tracker.feed(Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x01]), Buffer.alloc(16_384)])),
    ).toEqual({
      ok: true,
    });
    expect(tracker.packets.map((p) => p.length)).toEqual([129, 16_386, 16_388]);
    // 0x80 0x80 0x80 0x01 is 2,097,152: the reader is at a packet start, so this header trips.
    expect(tracker.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({
      ok: false,
      reason: "too large",
    });
  });

  test("a fifth length byte is malformed", () => {
    const tracker = reader({ maxRemainingLength: MQTT_MAX_LENGTH, maxConnectRemainingLength: 0 });
    expect(tracker.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({
      ok: false,
      reason: "malformed remaining length",
    });
  });

  test("a CONNECT may carry a little more than other packets (a will besides the credentials)", () => {
    const between = maxRemainingLength + 1;
    expect(between).toBeLessThanOrEqual(maxConnectRemainingLength);
    expect(feedAll([fixedHeader(CONNECT, 0, between)])).toEqual([{ ok: true }]);
    // Only the header so far: the body is awaited, nothing of it buffered.
    expect(feedAll([fixedHeader(3, 2, between)])[0]).toMatchObject({ ok: false });
    expect(feedAll([fixedHeader(CONNECT, 0, maxConnectRemainingLength + 1)])[0]).toMatchObject({ ok: false });
  });

  test("any chunking of a stream of valid packets gives back each packet, byte for byte", () => {
    fc.assert(
      fc.property(
        fc.array(validPacket, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat()),
        (packets, points) => {
          const r = reader();
          for (const chunk of cut(Buffer.concat(packets), points))
            expect(r.feed(chunk)).toEqual({ ok: true });
          expect(r.packets).toEqual(packets);
          expect(r.pending()).toBe(0);
        },
      ),
    );
  });

  test("a packet announcing more than the limit trips, after any valid prefix and any chunking", () => {
    const oversized = fc
      .tuple(
        fc.integer({ min: 0, max: 15 }),
        fc.oneof(
          fc.integer({ min: maxConnectRemainingLength + 1, max: maxConnectRemainingLength + 300 }),
          fc.integer({ min: maxConnectRemainingLength + 1, max: MQTT_MAX_LENGTH }),
        ),
      )
      .map(([type, length]) => fixedHeader(type, 0, length));
    fc.assert(
      fc.property(
        fc.array(validPacket, { maxLength: 5 }),
        oversized,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat()),
        (prefix, header, trailing, points) => {
          const before = Buffer.concat(prefix);
          const chunks = cut(Buffer.concat([before, header, trailing]), points);
          const verdicts = feedAll(chunks);
          const tripped = verdicts.findIndex((v) => !v.ok);
          expect(tripped).toBeGreaterThanOrEqual(0);
          // In the chunk that holds the oversized header, not before it (the valid packets
          // passed) nor after it (nothing of its body was let through).
          let start = 0;
          for (let i = 0; i < tripped; i++) start += chunks[i]!.length;
          expect(start).toBeLessThan(before.length + header.length);
          expect(start + chunks[tripped]!.length).toBeGreaterThan(before.length);
        },
      ),
    );
  });
});

describe("the shared parser", () => {
  const packetArb = fc.oneof(
    fc
      .record({
        topic: fc.stringMatching(/^[a-z0-9/]{1,40}$/),
        payload: fc.uint8Array({ maxLength: 200 }),
        qos: fc.constantFrom(0, 1, 2),
        messageId: fc.integer({ min: 1, max: 65535 }),
        retain: fc.boolean(),
      })
      .map(({ qos, messageId, payload, ...rest }) => ({
        cmd: "publish" as const,
        ...rest,
        payload: Buffer.from(payload),
        qos,
        dup: false,
        ...(qos > 0 ? { messageId } : {}),
      })),
    fc.integer({ min: 1, max: 65535 }).map((messageId) => ({ cmd: "puback" as const, messageId })),
    fc.constant({ cmd: "pingreq" as const }),
  );

  test("reads what mqtt-packet writes, one packet at a time, whoever connected before", () => {
    const parser = createPacketParser();
    // A CONNECT with MQTT 5 first: the parser must not read later packets as MQTT 5.
    const v5 = mqttPacket.generate({
      cmd: "connect",
      protocolVersion: 5,
      clientId: "x",
      keepalive: 0,
    } as never);
    expect(parser.parse(v5)).toMatchObject({ cmd: "connect", protocolVersion: 5 });
    fc.assert(
      fc.property(packetArb, (packet) => {
        const parsed = parser.parse(encodePacket(packet as never));
        expect(parsed).toMatchObject(
          packet.cmd === "publish" ? { ...packet, length: expect.any(Number) } : packet,
        );
      }),
    );
  });

  test("garbage is an Error, and the next packet still parses", () => {
    const parser = createPacketParser();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const result = parser.parse(Buffer.from(bytes));
        // Whatever it made of the garbage, a valid packet after it reads right.
        expect(result instanceof Error || typeof result.cmd === "string").toBe(true);
        expect(parser.parse(encodePacket({ cmd: "puback", messageId: 513 }))).toMatchObject({
          cmd: "puback",
          messageId: 513,
        });
      }),
    );
  });
});
