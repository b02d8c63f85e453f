import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mayIntegrationPublish, mayIntegrationSubscribe } from "./mqtt-integration-acl.ts";

const scope = { stationId: "st-1", prefix: "homeassistant" };

describe("integration ACL", () => {
  test("subscribe: the prefix and the bridge's own topics only", () => {
    for (const ok of [
      "homeassistant/#",
      "homeassistant/+/+/config",
      "opengenie/st-1/#",
      "opengenie/st-1/device/d1/state",
    ])
      expect(mayIntegrationSubscribe(scope, ok)).toBe(true);
    for (const no of [
      "#",
      "+/#",
      "homeassistant",
      "homeassistan/#",
      "+/status",
      "station/st-1/device/d1/state",
      "station/#",
      "opengenie/st-2/#",
      "opengenie/+/#",
      "opengenie/#",
      "$SYS/#",
    ])
      expect(mayIntegrationSubscribe(scope, no)).toBe(false);
  });

  test("publish: the bridge's command topics and <prefix>/status only", () => {
    for (const ok of [
      "homeassistant/status",
      "opengenie/st-1/device/d1/set",
      "opengenie/st-1/device/d1/set/target_temperature",
    ])
      expect(mayIntegrationPublish(scope, ok)).toBe(true);
    for (const no of [
      "homeassistant/light/x/config",
      "station/st-1/device/d1/command",
      "station/st-1/device/d1/state",
      "opengenie/st-1/device/d1/state",
      "opengenie/st-1/device/d1/availability",
      "opengenie/st-1/bridge/availability",
      "opengenie/st-2/device/d1/set",
      "opengenie/st-1/device//set",
      "opengenie/st-1/device/d1/set/a/b",
    ])
      expect(mayIntegrationPublish(scope, no)).toBe(false);
  });

  test("fuzz: nothing under station/ is ever allowed either way", () => {
    fc.assert(
      fc.property(fc.string(), (rest) => {
        expect(mayIntegrationPublish(scope, `station/${rest}`)).toBe(false);
        expect(mayIntegrationSubscribe(scope, `station/${rest}`)).toBe(false);
      }),
    );
  });
});
