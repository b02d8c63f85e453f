/**
 * The broker's subscription index against the plainest model of it: a list of (filter,
 * subscriber, QoS) searched in full for every topic, with MQTT's matching rules.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { topicMatches } from "./retained-store.ts";
import { createTopicIndex, isValidFilter, type QoS } from "./topic-index.ts";

const level = fc.constantFrom("a", "b", "$SYS", "station");
const topic = fc.array(level, { minLength: 1, maxLength: 3 }).map((l) => l.join("/"));
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 0, maxLength: 3 }), fc.boolean())
  .filter(([levels, hash]) => levels.length > 0 || hash)
  .map(([levels, hash]) => [...levels, ...(hash ? ["#"] : [])].join("/"));
const op = fc.record({
  add: fc.boolean(),
  filter,
  subscriber: fc.constantFrom("s1", "s2", "s3"),
  qos: fc.constantFrom<QoS>(0, 1),
});

/** MQTT-4.7.2-1: a filter starting with a wildcard does not match a `$` topic. */
function modelMatches(f: string, t: string): boolean {
  if (t.startsWith("$") && (f.startsWith("+") || f.startsWith("#"))) return false;
  return topicMatches(f, t);
}

describe("topic index", () => {
  test("matches what a full scan of the subscriptions finds, after any adds and removes", () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 30 }),
        fc.array(topic, { minLength: 1, maxLength: 5 }),
        (ops, topics) => {
          const index = createTopicIndex<string>();
          const model = new Map<string, QoS>(); // `${filter}\u0000${subscriber}` → qos
          for (const o of ops) {
            const key = `${o.filter}\u0000${o.subscriber}`;
            if (o.add) {
              index.add(o.filter, o.subscriber, o.qos);
              model.set(key, o.qos);
            } else {
              index.remove(o.filter, o.subscriber);
              model.delete(key);
            }
          }
          expect(index.size).toBe(model.size);
          for (const t of topics) {
            const expected = new Map<string, QoS>();
            for (const [key, qos] of model) {
              const [f, s] = key.split("\u0000") as [string, string];
              if (modelMatches(f, t) && (expected.get(s) ?? -1) < qos) expected.set(s, qos);
            }
            expect(Object.fromEntries(index.match(t))).toEqual(Object.fromEntries(expected));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("filters as MQTT-4.7 allows them", () => {
    for (const ok of ["a", "a/b", "+", "#", "a/+/c", "a/#", "+/+", "/"]) expect(isValidFilter(ok)).toBe(true);
    for (const bad of ["", "a#", "a/#/b", "a+", "a/b+/c", "#/a", "a\u0000b"])
      expect(isValidFilter(bad)).toBe(false);
  });
});
