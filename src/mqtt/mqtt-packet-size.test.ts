import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import {
  createPacketSizeTracker,
  DEFAULT_PACKET_SIZE_LIMITS,
  type PacketSizeVerdict,
} from "./mqtt-packet-size.ts";
import { fixedHeader } from "./mqtt-test-packets.ts";
import { PacketSizeLimitedSocket } from "./packet-size-limited-socket.ts";

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

function feedAll(chunks: Buffer[]): PacketSizeVerdict[] {
  const tracker = createPacketSizeTracker();
  return chunks.map((chunk) => tracker.feed(chunk));
}

describe("MQTT packet size tracker", () => {
  test("the remaining length is read as section 2.2.3 encodes it, boundaries included", () => {
    // The spec's table: 0x7F, 0xFF 0x7F (16,383), 0x80 0x80 0x01 (16,384), then a next packet.
    const limits = { maxRemainingLength: 20_000, maxConnectRemainingLength: 20_000 };
    const tracker = createPacketSizeTracker(limits);
    expect(tracker.feed(Buffer.concat([Buffer.from([0x30, 0x7f]), Buffer.alloc(127)]))).toEqual({ ok: true });
    expect(tracker.feed(Buffer.concat([Buffer.from([0x30, 0xff, 0x7f]), Buffer.alloc(16_383)]))).toEqual({
      ok: true,
    });
    expect(
      tracker.feed(Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x01]), Buffer.alloc(16_384)])),
    ).toEqual({
      ok: true,
    });
    // 0x80 0x80 0x80 0x01 is 2,097,152: the tracker is at a packet start, so this header trips.
    expect(tracker.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({
      ok: false,
      reason: "too large",
    });
  });

  test("a fifth length byte is malformed", () => {
    const tracker = createPacketSizeTracker({
      maxRemainingLength: MQTT_MAX_LENGTH,
      maxConnectRemainingLength: 0,
    });
    expect(tracker.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({
      ok: false,
      reason: "malformed remaining length",
    });
  });

  test("a CONNECT may carry a little more than other packets (a will besides the credentials)", () => {
    const between = maxRemainingLength + 1;
    expect(between).toBeLessThanOrEqual(maxConnectRemainingLength);
    expect(feedAll([fixedHeader(CONNECT, 0, between)])).toEqual([{ ok: true }]);
    expect(feedAll([fixedHeader(3, 2, between)])[0]).toMatchObject({ ok: false });
    expect(feedAll([fixedHeader(CONNECT, 0, maxConnectRemainingLength + 1)])[0]).toMatchObject({ ok: false });
  });

  test("any chunking of a stream of valid packets passes, whatever the sizes", () => {
    fc.assert(
      fc.property(
        fc.array(validPacket, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat()),
        (packets, points) => {
          const verdicts = feedAll(cut(Buffer.concat(packets), points));
          expect(verdicts.every((v) => v.ok)).toBe(true);
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

describe("PacketSizeLimitedSocket", () => {
  test("random chunkings of valid packet streams come out unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(validPacket, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (packets, points) => {
          const stream = Buffer.concat(packets);
          const raw = new PassThrough();
          const limited = new PacketSizeLimitedSocket(raw, () => {
            throw new Error("a valid stream was refused");
          });
          const received: Buffer[] = [];
          limited.on("data", (chunk: Buffer) => received.push(chunk));
          const ended = new Promise((resolve) => limited.once("end", resolve));
          for (const chunk of cut(stream, points)) raw.write(chunk);
          raw.end();
          await ended;
          expect(Buffer.concat(received).equals(stream)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  test("an oversized header destroys the socket before the body is passed on", async () => {
    const raw = new PassThrough();
    const refusals: unknown[] = [];
    const limited = new PacketSizeLimitedSocket(raw, (refusal) => refusals.push(refusal));
    const received: Buffer[] = [];
    limited.on("data", (chunk: Buffer) => received.push(chunk));
    const closed = new Promise((resolve) => limited.once("close", resolve));
    raw.write(packet(12, 0)); // PINGREQ passes
    raw.write(Buffer.concat([fixedHeader(3, 2, 200 * 1024 * 1024), Buffer.alloc(1024)]));
    await closed;
    expect(raw.destroyed).toBe(true);
    expect(Buffer.concat(received).equals(packet(12, 0))).toBe(true);
    expect(refusals).toEqual([
      {
        ok: false,
        reason: "too large",
        packetType: 3,
        announcedAtLeast: expect.any(Number),
        limit: maxRemainingLength,
      },
    ]);
  });

  test("packets aedes writes in one tick reach the socket as one write, byte for byte", async () => {
    const raw = new PassThrough();
    const writes: Buffer[] = [];
    const write = raw.write.bind(raw);
    raw.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof raw.write;
    const limited = new PacketSizeLimitedSocket(raw, () => {});
    // aedes writes with mqtt-packet's writeToStream, which corks the stream for each packet
    // until the next tick and writes the header, length and id as separate chunks.
    const acks = [1, 2, 3].map((messageId) => ({ cmd: "puback" as const, messageId }));
    for (const ack of acks) mqttPacket.writeToStream(ack, limited);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(writes).equals(Buffer.concat(acks.map((a) => mqttPacket.generate(a))))).toBe(true);
    expect(writes.length).toBe(1);
  });
});
