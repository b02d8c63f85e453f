import { expect, test } from "bun:test";
import { withDeadline } from "./lifecycle.ts";

test("withDeadline: work done in time is never reported late afterwards", async () => {
  let late = 0;
  await withDeadline(Promise.resolve(), 20, () => late++);
  await Bun.sleep(60);
  expect(late).toBe(0);
});

test("withDeadline: work that hangs is reported late once and given up on", async () => {
  let late = 0;
  await withDeadline(new Promise<void>(() => {}), 20, () => late++);
  expect(late).toBe(1);
});
