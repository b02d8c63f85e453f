import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toDeviceCommands } from "./ha-commands.ts";

describe("Home Assistant commands → device commands", () => {
  test("the light's JSON schema", () => {
    expect(toDeviceCommands("light", undefined, '{"state":"ON","brightness":40}')).toEqual([
      { action: "turn_on", params: {} },
      { action: "set_brightness", params: { brightness: 40 } },
    ]);
    expect(toDeviceCommands("light", undefined, '{"state":"OFF"}')).toEqual([
      { action: "turn_off", params: {} },
    ]);
    expect(toDeviceCommands("light", undefined, '{"brightness":101}')).toHaveProperty("error");
    expect(toDeviceCommands("light", undefined, "ON")).toHaveProperty("error");
    expect(toDeviceCommands("light", undefined, "{}")).toHaveProperty("error");
  });

  test("switch and climate", () => {
    expect(toDeviceCommands("switch", undefined, "ON")).toEqual([{ action: "turn_on", params: {} }]);
    expect(toDeviceCommands("switch", undefined, "on")).toHaveProperty("error");
    expect(toDeviceCommands("climate", "target_temperature", "22.5")).toEqual([
      { action: "set_target", params: { celsius: 22.5 } },
    ]);
    expect(toDeviceCommands("climate", "target_temperature", "warm")).toHaveProperty("error");
    expect(toDeviceCommands("climate", undefined, "22")).toHaveProperty("error");
    expect(toDeviceCommands("sensor", undefined, "ON")).toHaveProperty("error");
  });

  test("fuzz: any payload gives commands or an error, never a throw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("light", "switch", "climate", "sensor", "pir"),
        fc.option(fc.string(), { nil: undefined }),
        fc.oneof(fc.string(), fc.json()),
        (type, field, payload) => {
          const out = toDeviceCommands(type, field, payload);
          expect(Array.isArray(out) || typeof (out as { error: string }).error === "string").toBe(true);
        },
      ),
    );
  });
});
