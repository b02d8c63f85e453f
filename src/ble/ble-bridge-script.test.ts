import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunPlatform } from "../platform/index.ts";
import { writeBridgeScript } from "./ble-bridge-script.ts";

const { bleBridgeScript } = createBunPlatform().embedded;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "opengenie-script-"));
  dirs.push(dir);
  return join(dir, "data");
}

describe("embedded BLE helper script", () => {
  test("is the Python helper itself", () => {
    expect(bleBridgeScript).toStartWith("#!/usr/bin/env python3");
    expect(bleBridgeScript).toContain("BLEAK_MISSING");
  });

  test("is written to <data-dir>/ble_bridge.py with mode 0644", () => {
    const dir = dataDir();
    const path = writeBridgeScript(dir, bleBridgeScript);
    expect(path).toBe(join(dir, "ble_bridge.py"));
    expect(readFileSync(path, "utf8")).toBe(bleBridgeScript);
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  test("an unchanged file is left alone; a stale or edited one is replaced", () => {
    const dir = dataDir();
    const path = writeBridgeScript(dir, bleBridgeScript);
    const old = new Date("2020-01-01T00:00:00Z");
    utimesSync(path, old, old);
    writeBridgeScript(dir, bleBridgeScript);
    expect(statSync(path).mtime.getTime()).toBe(old.getTime());
    writeFileSync(path, "print('tampered')\n", { mode: 0o600 });
    writeBridgeScript(dir, bleBridgeScript);
    expect(readFileSync(path, "utf8")).toBe(bleBridgeScript);
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });
});
