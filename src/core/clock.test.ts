import { expect, test } from "bun:test";
import { createManualClock, createSystemClock } from "./clock.ts";
import { backoffDelay } from "./reconnect-backoff.ts";

test("a system timer longer than setTimeout's limit does not fire early", async () => {
  const clock = createSystemClock();
  let fired = false;
  const handle = clock.setTimeout(() => {
    fired = true;
  }, 30 * 86_400_000);
  // Timers fire in order of expiry, and an overflowed delay becomes 1 ms: it would fire before
  // a 20 ms timer set after it.
  await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
  expect(fired).toBe(false);
  clock.clearTimeout(handle);
});

test("a short system timer fires", async () => {
  const clock = createSystemClock();
  const fired = await new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), 5));
  expect(fired).toBe(true);
});

test("the manual clock runs timers in time order, intervals repeatedly", () => {
  const clock = createManualClock(0);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`t@${clock.now()}`), 250);
  const every = clock.setInterval(() => seen.push(`i@${clock.now()}`), 100);
  clock.advance(300);
  clock.clearInterval(every);
  clock.advance(1000);
  expect(seen).toEqual(["i@100", "i@200", "t@250", "i@300"]);
});

test("backoff doubles, caps, and stays within the jitter band", () => {
  const opts = { initialMs: 2000, maxMs: 60_000, jitter: 0.2 };
  expect(backoffDelay(0, opts, () => 0.5)).toBe(2000);
  expect(backoffDelay(3, opts, () => 0.5)).toBe(16_000);
  expect(backoffDelay(10, opts, () => 0.5)).toBe(60_000);
  expect(backoffDelay(10, opts, () => 0)).toBe(48_000);
  expect(backoffDelay(10, opts, () => 0.999999)).toBeLessThanOrEqual(72_000);
});
