import { expect, test } from "bun:test";
import fc from "fast-check";
import { CLOUD_BACKOFF, cloudReconnectDelay } from "./cloud-backoff.ts";

test("every delay is within ±20 % of 2 s doubling to 60 s, over many draws", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, r) => {
        const base = Math.min(CLOUD_BACKOFF.maxMs, CLOUD_BACKOFF.initialMs * 2 ** attempt);
        const delay = cloudReconnectDelay(attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
        expect(delay).toBeLessThanOrEqual(72_000);
      },
    ),
    { numRuns: 5000 },
  );
});

test("the schedule starts at 2 s, doubles, and stops growing at 60 s", () => {
  const middle = () => 0.5;
  expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => cloudReconnectDelay(a, middle))).toEqual([
    2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000,
  ]);
  // The jitter really spreads: the extremes of the random source reach both bounds.
  expect(cloudReconnectDelay(0, () => 0)).toBe(1600);
  expect(cloudReconnectDelay(10, () => 0.999999)).toBe(72000);
});
