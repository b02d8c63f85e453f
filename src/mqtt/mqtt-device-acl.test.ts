import { describe, expect, test } from "bun:test";
import {
  isAllowedDeviceClientId,
  isUsableDeviceId,
  mayDevicePublish,
  mayDeviceSubscribe,
} from "./mqtt-device-acl.ts";

describe("device ACL", () => {
  test("client id is the device id or `<deviceId>-<suffix>`", () => {
    expect(isAllowedDeviceClientId("lamp1", "lamp1")).toBe(true);
    expect(isAllowedDeviceClientId("lamp1", "lamp1-ota")).toBe(true);
    for (const clientId of ["lamp2", "lamp1-", "lamp10", "xlamp1", ""]) {
      expect(isAllowedDeviceClientId("lamp1", clientId)).toBe(false);
    }
  });

  test("device ids that would alias topics are unusable", () => {
    expect(isUsableDeviceId("lamp-1")).toBe(true);
    for (const id of ["", "a/b", "+", "#", "a+"]) expect(isUsableDeviceId(id)).toBe(false);
  });

  test("a device publishes only to its own five device→station topics", () => {
    for (const suffix of ["handshake", "state", "event", "heartbeat", "command/result"]) {
      expect(mayDevicePublish("st1", "d1", `station/st1/device/d1/${suffix}`)).toBe(true);
    }
    for (const topic of [
      "station/st1/device/d2/state",
      "station/st2/device/d1/state",
      "station/st1/device/d1/command",
      "station/st1/device/d1/handshake/ack",
      "station/st1/device/d1/state/extra",
    ]) {
      expect(mayDevicePublish("st1", "d1", topic)).toBe(false);
    }
  });

  test("a device subscribes only to its own handshake/ack and command, never a wildcard", () => {
    expect(mayDeviceSubscribe("st1", "d1", "station/st1/device/d1/command")).toBe(true);
    expect(mayDeviceSubscribe("st1", "d1", "station/st1/device/d1/handshake/ack")).toBe(true);
    for (const filter of [
      "station/st1/device/d2/command",
      "station/st1/device/+/command",
      "station/st1/device/d1/#",
      "#",
      "station/st1/device/d1/state",
    ]) {
      expect(mayDeviceSubscribe("st1", "d1", filter)).toBe(false);
    }
  });
});
