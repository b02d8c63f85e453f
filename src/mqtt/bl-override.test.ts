/**
 * The `bl` installed is vendor/bl-list (README there): mqtt-packet's parser gets a plain byte
 * list per connection instead of a readable-stream Duplex around one. Checks that it is the one
 * installed, and that the parser reads any MQTT packet, split into chunks anyhow, through it.
 */
import { expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";

test("the installed bl is the list-only one from vendor/bl-list", () => {
  const resolved = realpathSync(require.resolve("bl"));
  expect(resolved).toBe(realpathSync(join(import.meta.dir, "..", "..", "vendor", "bl-list", "index.js")));
  const bl = require("bl") as () => Record<string, unknown>;
  const list = bl();
  expect(typeof list.append).toBe("function");
  expect(list.pipe).toBeUndefined(); // no stream around it
  const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as { _list: Record<string, unknown> };
  expect(parser._list.pipe).toBeUndefined();
});

const topic = fc.stringMatching(/^[a-z0-9/]{1,40}$/);
const packet = fc.oneof(
  fc.record({
    cmd: fc.constant("publish" as const),
    topic,
    payload: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    qos: fc.constantFrom(0 as const, 1 as const),
    retain: fc.boolean(),
    dup: fc.constant(false),
    messageId: fc.integer({ min: 1, max: 65535 }),
  }),
  fc.record({
    cmd: fc.constant("connect" as const),
    clientId: fc.stringMatching(/^[a-z0-9-]{1,23}$/),
    protocolId: fc.constant("MQTT"),
    protocolVersion: fc.constant(4 as const),
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65535 }),
    username: topic,
    password: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
  }),
  fc.record({ cmd: fc.constant("puback" as const), messageId: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({ cmd: fc.constant("pingreq" as const) }),
);

test("fuzz: mqtt-packet's parser reads packets split at any points through the list", () => {
  fc.assert(
    fc.property(
      fc.array(packet, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (packets, cuts) => {
        const wire = Buffer.concat(packets.map((p) => mqttPacket.generate(p as mqttPacket.Packet)));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const parser = mqttPacket.parser({ protocolVersion: 4 });
        const seen: mqttPacket.Packet[] = [];
        parser.on("packet", (p) => seen.push(p));
        parser.on("error", (err) => {
          throw err;
        });
        let from = 0;
        for (const to of [...points, wire.length]) {
          if (to > from) parser.parse(wire.subarray(from, to));
          from = Math.max(from, to);
        }
        expect(seen.map((p) => Buffer.from(mqttPacket.generate(p)).toString("hex"))).toEqual(
          packets.map((p) => Buffer.from(mqttPacket.generate(p as mqttPacket.Packet)).toString("hex")),
        );
      },
    ),
    { numRuns: 300 },
  );
});
