import { describe, expect, test } from "bun:test";
import {
  DEVICE_TO_STATION_SUFFIXES,
  deviceTopic,
  parseDeviceTopic,
  STATION_TO_DEVICE_SUFFIXES,
} from "./mqtt-topics.ts";

describe("device topics", () => {
  test("every suffix round-trips through deviceTopic and parseDeviceTopic", () => {
    for (const suffix of [...DEVICE_TO_STATION_SUFFIXES, ...STATION_TO_DEVICE_SUFFIXES]) {
      expect(parseDeviceTopic(deviceTopic("st1", "lamp-1", suffix))).toEqual({
        stationId: "st1",
        deviceId: "lamp-1",
        suffix,
      });
    }
    expect(deviceTopic("st1", "d1", "command/result")).toBe("station/st1/device/d1/command/result");
  });

  test("anything that is not exactly a device topic parses to null", () => {
    for (const topic of [
      "station/st1/device/d1/unknown",
      "station/st1/device/d1",
      "station/st1/device//state",
      "station/st1/device/+/state",
      "station/#/device/d1/state",
      "station/st1/devices/d1/state",
      "other/st1/device/d1/state",
      "station/st1/device/d1/command/result/extra",
    ]) {
      expect(parseDeviceTopic(topic)).toBeNull();
    }
  });
});
