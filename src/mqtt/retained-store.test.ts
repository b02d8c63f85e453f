import { describe, expect, test } from "bun:test";
import type { Readable } from "node:stream";
import aedesMemoryPersistence from "aedes-persistence";
import fc from "fast-check";
import type { BrokerMessage } from "./broker-sessions.ts";
import { createRetainedStore } from "./retained-store.ts";

/** aedes-persistence's in-memory retained store: what ours returns must match it. */
interface AedesRetained {
  storeRetained(packet: BrokerMessage): Promise<void>;
  createRetainedStreamCombi(filters: string[]): Readable;
}

const show = (message: BrokerMessage) => `${message.topic}=${message.payload.toString()}`;

const level = fc.constantFrom("a", "b", "", "$SYS", "station");
const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join("/"));
/** Valid MQTT filters only (aedes refuses the others before they reach the persistence). */
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([levels, hash]) => levels.length > 0 || hash)
  .map(([levels, hash]) => [...levels, ...(hash ? ["#"] : [])].join("/"));
const store = fc.array(
  fc.record({ topic, payload: fc.oneof(fc.constant(""), fc.string({ minLength: 1, maxLength: 3 })) }),
  { maxLength: 30 },
);

async function collect(stream: Readable): Promise<string[]> {
  const out: string[] = [];
  for await (const packet of stream) out.push(`${packet.topic}=${packet.payload.toString()}`);
  return out;
}

describe("retained store", () => {
  test("returns what aedes-persistence's in-memory store returns, in the same order, for any filters", async () => {
    await fc.assert(
      fc.asyncProperty(store, fc.array(filter, { minLength: 1, maxLength: 3 }), async (writes, filters) => {
        const ours = createRetainedStore();
        const theirs = aedesMemoryPersistence() as unknown as AedesRetained;
        for (const w of writes) {
          const packet: BrokerMessage = {
            qos: 1,
            retain: true,
            topic: w.topic,
            payload: Buffer.from(w.payload),
          };
          ours.store(packet);
          await theirs.storeRetained(packet);
        }
        expect(filters.flatMap((f) => [...ours.matching(f)].map(show))).toEqual(
          await collect(theirs.createRetainedStreamCombi(filters)),
        );
      }),
      { numRuns: 500 },
    );
  });

  test("a stored packet is a copy: changing the caller's object later changes nothing", async () => {
    const ours = createRetainedStore();
    const packet: BrokerMessage = { topic: "a/b", payload: Buffer.from("1"), qos: 1, retain: true };
    ours.store(packet);
    packet.topic = "x";
    expect([...ours.matching("a/b")].map(show)).toEqual(["a/b=1"]);
  });
});
