import { expect, test } from "bun:test";
import { createManualClock } from "./clock.ts";
import { createIdleCollector } from "./idle-collector.ts";

const MB = 1024 * 1024;

function setup() {
  const clock = createManualClock(0);
  let collected = 0;
  const idle = createIdleCollector({
    clock,
    collect: () => collected++,
    thresholdBytes: 16 * MB,
    quietMs: 2000,
    quietBytes: MB,
  });
  return { clock, idle, collected: () => collected };
}

test("after a burst over the threshold, one collection once traffic has been quiet for a window", () => {
  const { clock, idle, collected } = setup();
  for (let i = 0; i < 2048; i++) idle.note(8192); // 16 MiB
  expect(collected()).toBe(0);
  clock.advance(1999);
  expect(collected()).toBe(0);
  clock.advance(1);
  expect(collected()).toBe(1);
  clock.advance(60_000);
  expect(collected()).toBe(1); // once per burst, not on a timer
});

test("below the threshold nothing is asked for, however long it runs", () => {
  const { clock, idle, collected } = setup();
  for (let minute = 0; minute < 10; minute++) {
    idle.note(MB);
    clock.advance(60_000);
  }
  expect(collected()).toBe(0); // 10 MiB in all
  for (let i = 0; i < 6; i++) idle.note(MB); // 16 MiB now: the next quiet window collects
  clock.advance(2000);
  expect(collected()).toBe(1);
});

test("while the burst goes on it waits, window after window, then collects once", () => {
  const { clock, idle, collected } = setup();
  idle.note(16 * MB);
  for (let i = 0; i < 10; i++) {
    idle.note(2 * MB); // busy: more than the quiet limit in every window
    clock.advance(2000);
    expect(collected()).toBe(0);
  }
  idle.note(100); // a heartbeat or two is quiet
  clock.advance(2000);
  expect(collected()).toBe(1);
});

test("without a collection call, or after stop(), nothing is scheduled", () => {
  const clock = createManualClock(0);
  const none = createIdleCollector({ clock });
  none.note(64 * MB);
  clock.advance(10_000);
  expect(none.collections).toBe(0);

  const { clock: c2, idle, collected } = setup();
  idle.note(16 * MB);
  idle.stop();
  c2.advance(10_000);
  expect(collected()).toBe(0);
});

test("afterQuiet: one release once the next window is quiet, without a burst noted", () => {
  const { clock, idle, collected } = setup();
  idle.afterQuiet();
  idle.note(2 * MB); // still busy (the first requests after start): wait another window
  clock.advance(2000);
  expect(collected()).toBe(0);
  clock.advance(2000);
  expect(collected()).toBe(1);
  clock.advance(60_000);
  expect(collected()).toBe(1);
});

test("afterQuiet(then): `then` runs once, right before that release; at once without a release call", () => {
  const { clock, idle, collected } = setup();
  const order: string[] = [];
  idle.afterQuiet(() => order.push(`then, after ${collected()} releases`));
  idle.note(2 * MB);
  clock.advance(2000);
  expect(order).toEqual([]);
  clock.advance(2000);
  expect(order).toEqual(["then, after 0 releases"]);
  expect(collected()).toBe(1);
  idle.note(32 * MB);
  clock.advance(4000);
  expect(order).toHaveLength(1);

  const none = createIdleCollector({ clock: createManualClock() });
  let ran = 0;
  none.afterQuiet(() => ran++);
  expect(ran).toBe(1);
});
