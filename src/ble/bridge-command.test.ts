import { describe, expect, test } from "bun:test";
import { StationError } from "../core/index.ts";
import { defaultBridgeCommand, resolveBridgeCommand, splitCommandLine } from "./bridge-command.ts";

describe("BLE helper command", () => {
  test("defaults to the embedded script under /usr/bin/python3", () => {
    expect(defaultBridgeCommand("/data/ble_bridge.py")).toEqual(["/usr/bin/python3", "/data/ble_bridge.py"]);
    expect(resolveBridgeCommand(undefined, () => "/d/ble_bridge.py")).toEqual([
      "/usr/bin/python3",
      "/d/ble_bridge.py",
    ]);
  });

  test("OPENGENIE_BLE_BRIDGE replaces it, and the script is then not written", () => {
    const written: string[] = [];
    const scriptPath = () => {
      written.push("yes");
      return "/d/ble_bridge.py";
    };
    expect(resolveBridgeCommand("bun firmware-sim/ble-bridge.ts --devices 3", scriptPath)).toEqual([
      "bun",
      "firmware-sim/ble-bridge.ts",
      "--devices",
      "3",
    ]);
    expect(written).toEqual([]);
    expect(resolveBridgeCommand("   ", scriptPath)[0]).toBe("/usr/bin/python3");
  });

  test("splits like a shell for quotes and escapes", () => {
    expect(splitCommandLine(`  python3   '/opt/my dir/bridge.py' --name "Lamp \\"1\\"" a\\ b ''  `)).toEqual([
      "python3",
      "/opt/my dir/bridge.py",
      "--name",
      'Lamp "1"',
      "a b",
      "",
    ]);
    expect(splitCommandLine(`--pw 'it"s' "it's"`)).toEqual(["--pw", 'it"s', "it's"]);
    expect(splitCommandLine(`"C:\\path"`)).toEqual(["C:\\path"]);
  });

  test("an unterminated quote or an empty line is a clear error", () => {
    expect(() => splitCommandLine(`bun 'oops`)).toThrow(StationError);
    expect(() => splitCommandLine(`bun 'oops`)).toThrow("unterminated ' quote");
    expect(() => splitCommandLine("")).toThrow("empty");
  });
});
