import { expect, test } from "bun:test";
import { createMemoryLogger } from "../logging/index.ts";
import { createPending } from "./ha-pending.ts";

function recorder() {
  const done: string[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> | undefined;
  const step = (what: string) => async () => {
    done.push(what);
    if (gate) await gate;
  };
  return {
    done,
    hold() {
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
    },
    release: () => release(),
    work: {
      all: step("all"),
      device: (id: string) => step(`device ${id}`)(),
      removed: (id: string) => step(`removed ${id}`)(),
      station: step("station"),
    },
  };
}

test("a burst of changes while the broker is slow coalesces to one publish per device", async () => {
  const r = recorder();
  const pending = createPending(r.work, () => true, createMemoryLogger("error"));
  r.hold();
  void pending.device("a"); // starts, and blocks on the gate
  for (let i = 0; i < 10_000; i++) {
    void pending.device("a");
    void pending.device("b");
  }
  expect(pending.size).toBe(2);
  void pending.removed("a");
  r.release();
  await pending.idle();
  expect(r.done).toEqual(["device a", "device b", "removed a", "station"]);
});

test("nothing is published while disconnected; everything once connected again", async () => {
  const r = recorder();
  let connected = false;
  const pending = createPending(r.work, () => connected, createMemoryLogger("error"));
  await pending.device("a");
  await pending.removed("b");
  expect(r.done).toEqual([]);
  connected = true;
  await pending.all();
  await pending.idle();
  // The removal still clears its configs; the publish is part of "all".
  expect(r.done).toEqual(["removed b", "all"]);
});
