/**
 * The Deno platform's argon2id runs on worker threads: the event loop keeps turning while
 * checks run (on the main thread each ~200 ms check would stall every socket of the station).
 * Runs under Bun, whose Web Workers take the same worker module.
 */
import { afterEach, expect, test } from "bun:test";
import { createArgon2Pool } from "./argon2-pool.ts";

let pool: ReturnType<typeof createArgon2Pool> | undefined;
afterEach(() => pool?.close());

test("hashes and verifies on workers, Bun.password agreeing; a wrong password or a garbage hash is false", async () => {
  pool = createArgon2Pool(2);
  const hash = await pool.hash("open sesame");
  expect(hash).toStartWith("$argon2id$v=19$m=65536,t=2,p=1$");
  expect(await Bun.password.verify("open sesame", hash)).toBe(true);
  expect(await pool.verify("open sesame", hash)).toBe(true);
  expect(await pool.verify("open says me", hash)).toBe(false);
  expect(await pool.verify("open sesame", "garbage")).toBe(false);
});

test("six checks at once leave the event loop free: timers keep firing while they run", async () => {
  pool = createArgon2Pool(2);
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  let ticks = 0;
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
  }, 5);
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => pool!.verify(i % 2 ? "pw" : "no", hash)),
  );
  clearInterval(timer);
  expect(results).toEqual([false, true, false, true, false, true]);
  expect(ticks).toBeGreaterThan(20);
  // One argon2id check takes ~200 ms; on the main thread the loop would stall that long.
  expect(longest).toBeLessThan(100);
});
