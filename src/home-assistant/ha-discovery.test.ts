import { describe, expect, test } from "bun:test";
import type { LiveDevice } from "../devices/index.ts";
import { deviceConfigs, haState, stationConfigs } from "./ha-discovery.ts";

const ctx = { stationId: "st-1", prefix: "homeassistant", version: "1.2.3" };
function device(type: string, state: Record<string, unknown>, extra: Partial<LiveDevice> = {}): LiveDevice {
  return {
    id: "dev_1",
    name: "Thing",
    type,
    transport: "mqtt",
    credentialHash: null,
    firmwareVersion: null,
    online: true,
    lastSeen: null,
    heartbeatSec: 30,
    createdAt: 0,
    state,
    driverKey: null,
    ...extra,
  };
}

describe("Home Assistant shapes", () => {
  test("power as true/false or on/off is the same ON/OFF", () => {
    expect(haState(device("switch", { power: true }))).toEqual({ state: "ON" });
    expect(haState(device("switch", { power: "on" }))).toEqual({ state: "ON" });
    expect(haState(device("switch", { power: false }))).toEqual({ state: "OFF" });
    expect(haState(device("light", { power: "off", brightness: 30 }))).toEqual({
      state: "OFF",
      brightness: 30,
      color_mode: "brightness",
    });
    expect(haState(device("pir", { motion: true }))).toEqual({ motion: "ON" });
  });

  test("one sensor per numeric key, with class and unit where the key says; odd keys are skipped", () => {
    const configs = deviceConfigs(
      ctx,
      device("sensor", { temperature: 20, battery: 90, "a b": 1, label: "x", co2: 400 }),
    );
    const byKey = Object.fromEntries(configs.map((c) => [c.payload.unique_id, c.payload]));
    expect(Object.keys(byKey).sort()).toEqual([
      "opengenie_st-1_dev_1_battery",
      "opengenie_st-1_dev_1_co2",
      "opengenie_st-1_dev_1_temperature",
    ]);
    expect(byKey["opengenie_st-1_dev_1_temperature"]).toMatchObject({
      device_class: "temperature",
      unit_of_measurement: "°C",
    });
    expect(byKey["opengenie_st-1_dev_1_battery"]).toMatchObject({
      device_class: "battery",
      unit_of_measurement: "%",
    });
  });

  test("a driver device's id becomes a safe topic level; diagnostics appear when known", () => {
    const configs = deviceConfigs(
      ctx,
      device("switch", { power: "on", rssi: -60 }, { id: "HUE:lamp/1+#", firmwareVersion: "2.0" }),
    );
    expect(configs[0]!.payload).toMatchObject({
      state_topic: "opengenie/st-1/device/HUE_lamp_1__/state",
      command_topic: "opengenie/st-1/device/HUE_lamp_1__/set",
    });
    for (const c of configs)
      expect(c.topic).toMatch(
        /^homeassistant\/(switch|sensor)\/opengenie_st-1\/HUE_lamp_1___[a-z]+\/config$/,
      );
    expect(configs.map((c) => c.payload.entity_category ?? "main")).toEqual([
      "main",
      "diagnostic",
      "diagnostic",
    ]);
    expect(configs[0]!.payload.device).toMatchObject({ sw_version: "2.0", via_device: "opengenie_st-1" });
  });

  test("the station is a device of its own", () => {
    const configs = stationConfigs(ctx);
    expect(configs.map((c) => c.payload.device)).toEqual([
      expect.objectContaining({ identifiers: ["opengenie_st-1"], sw_version: "1.2.3" }),
      expect.objectContaining({ identifiers: ["opengenie_st-1"] }),
    ]);
  });
});
