import { expect, test } from "bun:test";
import { describeEvent, powerIsOn, readings, typeHeading } from "./device-state.ts";

test("power reads as CONTRACT.md section 3 spells it: 'on'/'off' and true/false mean the same", () => {
  expect([powerIsOn("on"), powerIsOn(true)]).toEqual([true, true]);
  expect([powerIsOn("off"), powerIsOn(false), powerIsOn(undefined), powerIsOn("true"), powerIsOn(1)]).toEqual(
    [false, false, false, false, false],
  );
});

test("readings leave power and brightness to the controls and carry units", () => {
  expect(readings({ power: "on", brightness: 40, temperature: 21.5, humidity: 40, motion: true })).toEqual([
    { label: "Temperature", value: "21.5 °C" },
    { label: "Humidity", value: "40 %" },
    { label: "Motion", value: "motion" },
  ]);
});

test("history lines say what happened, with either spelling of power", () => {
  expect(describeEvent("command", { action: "turn_on", params: {}, requestId: "r1" })).toBe(
    "Command sent: turn_on",
  );
  expect(describeEvent("command", { requestId: "r1", ok: true })).toBe("Device confirmed the command");
  expect(describeEvent("command", { requestId: "r1", ok: false, error: "jammed" })).toBe(
    "Device answered an error: jammed",
  );
  expect(describeEvent("state", { power: true })).toBe("State: power on");
  expect(describeEvent("state", { power: "off", brightness: 3 })).toBe("State: power off, brightness 3");
  expect(describeEvent("status", { online: false })).toBe("Went offline");
});

test("a device type named like an Object member gets its own heading, not the member", () => {
  expect(typeHeading("light")).toBe("Lights");
  expect(typeHeading("constructor")).toBe("Constructor");
  expect(typeHeading("toString")).toBe("ToString");
});
