import { existsSync } from "node:fs";
import {
  type BleBridgeError,
  createBleBridgeProcess,
  DEFAULT_PYTHON,
  PROVISIONING_SERVICE_UUID,
  resolveBridgeCommand,
  startScanCommand,
  stopScanCommand,
  writeBridgeScript,
} from "../ble/index.ts";
import { createSystemClock } from "../core/index.ts";
import { createLogger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

const fixes: Record<BleBridgeError["code"], string> = {
  BLEAK_MISSING: "sudo apt-get install python3-bleak",
  NO_BLUEZ:
    "sudo apt-get install bluez && sudo systemctl enable --now bluetooth (and add the station's user to the bluetooth group)",
  NO_ADAPTER:
    "plug in or enable a Bluetooth adapter: rfkill unblock bluetooth; 'bluetoothctl list' should show it",
  INTERNAL: "run with LOG_LEVEL=debug and look at the helper's stderr",
  SPAWN_FAILED: "check OPENGENIE_BLE_BRIDGE, or install python3 (sudo apt-get install python3)",
};

/** Runs the real helper the station would run and asks it to scan for a few seconds. */
async function probeHelper(platform: Platform, command: string[], timeoutMs: number) {
  const bridge = createBleBridgeProcess({
    platform,
    command,
    clock: createSystemClock(),
    logger: createLogger({ level: "error", format: "json", write: () => {} }),
  });
  const outcome = await new Promise<{ ok: true } | { ok: false; error: BleBridgeError }>((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, error: { code: "INTERNAL", message: `no answer within ${timeoutMs} ms` } }),
      timeoutMs,
    );
    const finish = (r: { ok: true } | { ok: false; error: BleBridgeError }) => {
      clearTimeout(timer);
      resolve(r);
    };
    bridge.onMessage((m) => {
      if (m.type === "scan_started") finish({ ok: true });
      if (m.type === "error") finish({ ok: false, error: { code: m.code, message: m.message } });
    });
    bridge.onStatus((c) => {
      if (c.status === "ready") bridge.send(startScanCommand(PROVISIONING_SERVICE_UUID));
      if (c.status === "unavailable" && c.lastError) finish({ ok: false, error: c.lastError });
    });
    void bridge.start();
  });
  bridge.send(stopScanCommand());
  await bridge.stop();
  return outcome;
}

export async function bleChecks(
  platform: Platform,
  dataDir: string,
  bridgeOverride: string | undefined,
  timeoutMs = 8000,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (bridgeOverride) {
    results.push(ok("ble.helper", "BLE helper", `OPENGENIE_BLE_BRIDGE=${bridgeOverride}`));
  } else {
    if (!existsSync(DEFAULT_PYTHON)) {
      return [
        fail("ble.python", "python3", `${DEFAULT_PYTHON} not found`, fixes.SPAWN_FAILED),
        skip("ble.bleak", "bleak importable", "needs python3"),
        skip("ble.bluez", "BlueZ reachable", "needs python3"),
        skip("ble.adapter", "Bluetooth adapter", "needs python3"),
      ];
    }
    results.push(ok("ble.python", "python3", DEFAULT_PYTHON));
  }
  const command = resolveBridgeCommand(bridgeOverride, () =>
    writeBridgeScript(dataDir, platform.embedded.bleBridgeScript),
  );
  const probe = await probeHelper(platform, command, timeoutMs);
  const order = ["ble.bleak", "ble.bluez", "ble.adapter"] as const;
  const names = {
    "ble.bleak": "bleak importable",
    "ble.bluez": "BlueZ reachable",
    "ble.adapter": "Bluetooth adapter",
  };
  const failedAt: Record<string, (typeof order)[number]> = {
    BLEAK_MISSING: "ble.bleak",
    SPAWN_FAILED: "ble.bleak",
    NO_BLUEZ: "ble.bluez",
    NO_ADAPTER: "ble.adapter",
    INTERNAL: "ble.adapter",
  };
  const stop = probe.ok ? undefined : failedAt[probe.error.code];
  let reached = false;
  for (const id of order) {
    if (probe.ok || (!reached && id !== stop))
      results.push(ok(id, names[id], probe.ok && id === "ble.adapter" ? "scan started" : "yes"));
    else if (id === stop && !probe.ok) {
      reached = true;
      results.push(
        fail(id, names[id], `${probe.error.code}: ${probe.error.message}`, fixes[probe.error.code]),
      );
    } else results.push(skip(id, names[id], "needs the step above"));
  }
  return results;
}
