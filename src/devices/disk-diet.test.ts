import { expect, test } from "bun:test";
import fc from "fast-check";
import { changedKeys, createLastSeenPersistence, createStateHistory } from "./disk-diet.ts";

test("changedKeys: only keys whose value differs, objects compared by value", () => {
  expect(changedKeys({ a: 1, b: "x" }, { a: 1, b: "x" })).toBeUndefined();
  expect(changedKeys({ a: 1, o: { k: [1] } }, { a: 2, o: { k: [1] } })).toEqual({ a: 2 });
  expect(changedKeys({}, { n: null })).toEqual({ n: null });
  // A device may report a key named "__proto__" (JSON.parse makes it an own key): it stays one.
  const odd = changedKeys({}, JSON.parse('{"__proto__":{"x":1}}'));
  expect(odd && Object.hasOwn(odd, "__proto__")).toBe(true);
  expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.dictionary(fc.string(), fc.jsonValue()),
      (cur, rep) => {
        const changed = changedKeys(cur, rep) ?? {};
        // Merging only the changed keys gives the same state as merging the whole report.
        expect(JSON.stringify({ ...cur, ...changed }, Object.keys({ ...cur, ...rep }).sort())).toBe(
          JSON.stringify({ ...cur, ...rep }, Object.keys({ ...cur, ...rep }).sort()),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test("state history: one row per window, the latest value of each key, flushed when the window ends or at stop", () => {
  const rows: { id: string; data: unknown; at: number }[] = [];
  const h = createStateHistory(
    { appendEvent: (id, _kind, data, at) => void rows.push({ id, data, at }) },
    60_000,
  );
  const yes = () => true;
  h.record("d1", { t: 1 }, 0, yes);
  h.record("d1", { t: 2 }, 10_000, yes);
  h.record("d1", { t: 3, h: 40 }, 20_000, yes);
  expect(rows).toEqual([{ id: "d1", data: { t: 1 }, at: 0 }]);
  h.flushDue(59_999);
  expect(rows.length).toBe(1);
  h.flushDue(60_000);
  expect(rows[1]).toEqual({ id: "d1", data: { t: 3, h: 40 }, at: 20_000 });
  expect(h.size).toBe(0);
  // Over its budget, a device's first change of a window is not written.
  h.record("d2", { t: 1 }, 70_000, () => false);
  h.flushAll();
  expect(rows.length).toBe(2);
  h.record("d3", { t: 1 }, 80_000, yes);
  h.record("d3", { t: 2 }, 81_000, yes);
  h.flushAll();
  expect(rows.at(-1)).toEqual({ id: "d3", data: { t: 2 }, at: 81_000 });
});

test("state history: a discrete change (on/off, motion) is written at once, with what the window held back", () => {
  const rows: { data: unknown; at: number }[] = [];
  const h = createStateHistory(
    { appendEvent: (_id, _kind, data, at) => void rows.push({ data, at }) },
    60_000,
  );
  const yes = () => true;
  h.record("lamp", { power: "off" }, 0, yes);
  h.record("lamp", { brightness: 40 }, 1_000, yes);
  h.record("lamp", { power: "on" }, 2_000, yes);
  h.record("lamp", { brightness: 60 }, 3_000, yes);
  h.record("lamp", { power: "off" }, 4_000, yes);
  expect(rows).toEqual([
    { data: { power: "off" }, at: 0 },
    { data: { brightness: 40, power: "on" }, at: 2_000 },
    { data: { brightness: 60, power: "off" }, at: 4_000 },
  ]);
  // Over the budget, a transition waits for the window's end like a reading.
  h.record("lamp", { power: "on" }, 5_000, () => false);
  expect(rows.length).toBe(3);
  h.flushDue(60_000);
  expect(rows.at(-1)).toEqual({ data: { power: "on" }, at: 5_000 });
});

test("last_seen is due once per interval per device, and after the clock goes back", () => {
  const p = createLastSeenPersistence(60_000);
  expect(p.due("d", 1_000)).toBe(true);
  expect(p.due("d", 30_000)).toBe(false);
  expect(p.due("d", 61_000)).toBe(true);
  expect(p.due("d", 5_000)).toBe(true);
  p.stored("d", 100_000);
  expect(p.due("d", 120_000)).toBe(false);
});
