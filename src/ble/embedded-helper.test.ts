/**
 * The pieces as the station wires them: the embedded script written to a data dir and run by
 * the supervisor under /usr/bin/python3 (with the stub bleak), and the simulator's fake bridge
 * given as an OPENGENIE_BLE_BRIDGE command line.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createHelperHarness } from "../../tests/helpers/helper-process-harness.ts";
import { createSystemClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { createBleBridgeProcess } from "./ble-bridge-process.ts";
import { writeBridgeScript } from "./ble-bridge-script.ts";
import type { BleBridgeProcess } from "./ble-bridge-types.ts";
import { type BleHelperMessage, startScanCommand } from "./ble-messages.ts";
import { writeBleakStub } from "./bleak-stub.ts";
import { defaultBridgeCommand, resolveBridgeCommand } from "./bridge-command.ts";

const SERVICE = "0000fff0-0000-1000-8000-00805f9b34fb";
const harness = createHelperHarness();
const { bleBridgeScript } = createBunPlatform().embedded;
const bridges: BleBridgeProcess[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await harness.close();
});

function supervise(command: string[], env?: Record<string, string>) {
  const bridge = createBleBridgeProcess({
    platform: createBunPlatform(),
    command,
    env: env && { ...process.env, ...env },
    logger: createMemoryLogger(),
    clock: createSystemClock(),
  });
  bridges.push(bridge);
  const messages: BleHelperMessage[] = [];
  bridge.onMessage((m) => messages.push(m));
  const until = async (what: string, check: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !check(); await Bun.sleep(10)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  return { bridge, messages, until };
}

describe.skipIf(!existsSync("/usr/bin/python3"))("embedded helper under the supervisor", () => {
  test("the script written to the data dir scans and reports devices", async () => {
    const dir = harness.tempDir();
    const script = writeBridgeScript(join(dir, "data"), bleBridgeScript);
    const stub = writeBleakStub(join(dir, "stub"));
    const env = { PYTHONPATH: stub, PYTHONDONTWRITEBYTECODE: "1", STUB_BLEAK_LOG: join(dir, "radio.jsonl") };
    const { bridge, messages, until } = supervise(defaultBridgeCommand(script), env);
    await bridge.start();
    await until("ready", () => bridge.status === "ready");
    bridge.send(startScanCommand(SERVICE));
    await until("two devices", () => messages.filter((m) => m.type === "discovered").length === 2);
    expect(messages.map((m) => m.type)).toEqual(["ready", "scan_started", "discovered", "discovered"]);
    expect(bridge.garbageLines).toBe(0);
  });

  test("without bleak the station sees BLE unavailable with the install hint", async () => {
    const script = writeBridgeScript(harness.tempDir(), bleBridgeScript);
    const { bridge, until } = supervise(["/usr/bin/python3", "-S", "-E", script]);
    await bridge.start();
    await until("unavailable", () => bridge.status === "unavailable");
    expect(bridge.lastError?.code).toBe("BLEAK_MISSING");
    expect(bridge.lastError?.message).toContain("apt-get install python3-bleak");
  });
});

test("OPENGENIE_BLE_BRIDGE=bun firmware-sim/ble-bridge.ts works under the supervisor", async () => {
  const fake = join(import.meta.dir, "..", "..", "firmware-sim", "ble-bridge.ts");
  const command = resolveBridgeCommand(`'${process.execPath}' ${fake} --devices 1`, () => "unused");
  const { bridge, messages, until } = supervise(command);
  await bridge.start();
  await until("ready", () => bridge.status === "ready");
  bridge.send(startScanCommand(SERVICE));
  await until("a device", () => messages.some((m) => m.type === "discovered"));
  expect(messages.find((m) => m.type === "discovered")).toMatchObject({
    address: "AA:BB:CC:00:00:01",
    name: "OpenGenie-Light-0001",
    service_uuids: [SERVICE],
  });
  await bridge.stop();
  expect(bridge.status).toBe("stopped");
});
