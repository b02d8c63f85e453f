import { expect, test } from "bun:test";
import { createFactBudget } from "./fact-budget.ts";

test("device-caused facts stop at the count or the byte bound, and go again once given back", () => {
  const budget = createFactBudget({ count: 3, bytes: 100 });
  expect(budget.take("device.state", 60)).toBe(true);
  // A 64 KiB-class state past the byte bound is dropped although the count has room.
  expect(budget.take("device.state", 50)).toBe(false);
  expect(budget.take("device.event", 20)).toBe(true);
  expect(budget.take("seen", 10)).toBe(true);
  expect(budget.take("command.result", 1)).toBe(false); // count full
  budget.give(60);
  expect(budget.take("device.status", 60)).toBe(true);
  expect(budget.outstanding).toEqual({ count: 3, bytes: 90 });
});

test("a revoked session or a removed user or device is never dropped, even past the budget", () => {
  const budget = createFactBudget({ count: 1, bytes: 10 });
  expect(budget.take("device.state", 10)).toBe(true);
  for (const kind of ["session.revoked", "user.removed", "user.role_changed", "device.removed"] as const)
    expect(budget.take(kind, 200)).toBe(true);
  expect(budget.take("device.state", 1)).toBe(false);
});
