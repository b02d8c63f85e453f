import { expect, test } from "bun:test";
import fc from "fast-check";
import { payloadDigest } from "./payload-digest.ts";

test("equal payloads digest alike; payloads one character apart never collide in 20,000 tries", () => {
  const base = JSON.stringify({
    name: "Hall sensor",
    unique_id: "opengenie_st_1_dev_1_temperature",
    sw: "1.0.0",
  });
  expect(payloadDigest(base)).toBe(payloadDigest(`${base}`));
  const seen = new Map<number, string>([[payloadDigest(base), base]]);
  fc.assert(
    fc.property(fc.nat({ max: base.length - 1 }), fc.integer({ min: 32, max: 0x2fff }), (at, code) => {
      const changed = base.slice(0, at) + String.fromCharCode(code) + base.slice(at + 1);
      const digest = payloadDigest(changed);
      const before = seen.get(digest);
      expect(before === undefined || before === changed).toBe(true);
      seen.set(digest, changed);
    }),
    { numRuns: 20_000 },
  );
  expect(Number.isSafeInteger(payloadDigest(base))).toBe(true);
});
