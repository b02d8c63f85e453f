import { expect, test } from "bun:test";
import { decodeFact, deriveFactKey, encodeFact, factTopic } from "./cluster-facts.ts";

const key = deriveFactKey("x".repeat(32));
const topic = factTopic("st-1", "a", "device.state");
const body = { instanceId: "a", at: 1, data: { deviceId: "dev_1", state: { power: "on" }, at: 1 } };

test("a fact round-trips with the station's key", () => {
  const decoded = decodeFact(key, "st-1", topic, Buffer.from(encodeFact(key, topic, body)));
  expect(decoded).toEqual({ ok: true, instanceId: "a", kind: "device.state", body });
});

test("a changed body, another key, or another topic fails the MAC", () => {
  const payload = encodeFact(key, topic, body);
  const tampered = payload.replace('"on"', '"off"');
  expect(decodeFact(key, "st-1", topic, Buffer.from(tampered))).toEqual({ ok: false, reason: "mac" });
  const other = deriveFactKey("y".repeat(32));
  expect(decodeFact(other, "st-1", topic, Buffer.from(payload))).toEqual({ ok: false, reason: "mac" });
  // The same bytes replayed as another kind of fact.
  const moved = factTopic("st-1", "a", "device.removed");
  expect(decodeFact(key, "st-1", moved, Buffer.from(payload))).toEqual({ ok: false, reason: "mac" });
  expect(decodeFact(key, "st-1", topic, Buffer.from(`zz.${JSON.stringify(body)}`))).toEqual({
    ok: false,
    reason: "mac",
  });
});

test("a fact whose body names another instance than its topic, or another station's topic, is refused", () => {
  const wrongSender = encodeFact(key, topic, { ...body, instanceId: "b" });
  expect(decodeFact(key, "st-1", topic, Buffer.from(wrongSender))).toEqual({ ok: false, reason: "body" });
  const elsewhere = factTopic("st-2", "a", "device.state");
  const payload = encodeFact(key, elsewhere, body);
  expect(decodeFact(key, "st-1", elsewhere, Buffer.from(payload))).toEqual({ ok: false, reason: "topic" });
  const unknownKind = "station/st-1/internal/a/shutdown";
  expect(decodeFact(key, "st-1", unknownKind, Buffer.from("x"))).toEqual({ ok: false, reason: "topic" });
});
