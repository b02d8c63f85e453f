import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { openDatabase } from "../storage/index.ts";
import { createLeaderLease } from "./leader-lease.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

type ManualClock = ReturnType<typeof createManualClock>;

/**
 * Two instances on one real database file, each with its own connection and its own manual
 * clock (both starting at the same time): a clock that is no longer advanced is a dead process.
 */
async function twoInstances() {
  const dir = mkdtempSync(join(tmpdir(), "opengenie-lease-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const make = async (instanceId: string) => {
    const clock = createManualClock();
    const database = await openDatabase(createBunPlatform(), dir);
    cleanups.push(() => database.close());
    const lease = createLeaderLease({
      db: database.db,
      instanceId,
      clock,
      logger: createMemoryLogger("debug"),
    });
    cleanups.push(() => lease.stop());
    return { lease, clock };
  };
  return { a: await make("a"), b: await make("b") };
}

/** Advances the given clocks second by second, letting renewals and their queries finish. */
async function advance(clocks: ManualClock[], ms: number) {
  for (let t = 0; t < ms; t += 1000) {
    for (const clock of clocks) clock.advance(1000);
    await Bun.sleep(5);
  }
}

test("one of two instances holds the lease, renewing it; never both", async () => {
  const { a, b } = await twoInstances();
  await a.lease.start();
  await b.lease.start();
  expect([a.lease.leader, b.lease.leader]).toEqual([true, false]);
  for (let i = 0; i < 10; i++) {
    await advance([a.clock, b.clock], 3_000);
    expect([a.lease.leader, b.lease.leader]).toEqual([true, false]);
  }
});

test("a graceful stop hands the lease over at the others' next look", async () => {
  const { a, b } = await twoInstances();
  await a.lease.start();
  await b.lease.start();
  await a.lease.stop();
  await advance([b.clock], 3_000);
  expect(b.lease.leader).toBe(true);
});

test("a holder that died (kill -9) loses the lease once it expired, not before", async () => {
  const { a, b } = await twoInstances();
  await a.lease.start();
  await b.lease.start();
  // Only b's time goes on: a renews no more and never deletes its row.
  await advance([b.clock], 9_000);
  expect(b.lease.leader).toBe(false);
  await advance([b.clock], 6_000);
  expect(b.lease.leader).toBe(true);
});
