import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually, getDevice } from "./helpers/devices.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;
beforeAll(async () => {
  const bridge = `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")} --devices 2 --announce-interval-ms 100 --wifi-password right-pw`;
  s = await startTestStation({ env: { OPENGENIE_BLE_BRIDGE: bridge } });
  admin = await s.userToken("pairer", "owner");
});
afterAll(() => s.stop());

test("a wrong Wi-Fi password fails with the precise reason and exit 1", async () => {
  const out = await cli(
    s.dataDir,
    [
      "pair",
      "--address",
      "AA:BB:CC:00:00:02",
      "--ssid",
      "home",
      "--password-stdin",
      "--json",
      "--timeout",
      "5",
    ],
    "wrong-pw\n",
  );
  expect(out.code).toBe(1);
  const result = JSON.parse(out.stdout) as { ok: boolean; error: string };
  expect(result.ok).toBe(false);
  expect(result.error).toContain("never joined: check the Wi-Fi password");
});

test("`opengenie pair --json` pairs a device end to end and prints the result", async () => {
  const out = await cli(
    s.dataDir,
    [
      "pair",
      "--address",
      "AA:BB:CC:00:00:01",
      "--ssid",
      "home",
      "--password-stdin",
      "--name",
      "Hall light",
      "--type",
      "light",
      "--json",
    ],
    "right-pw\n",
  );
  expect(out.code).toBe(0);
  const result = JSON.parse(out.stdout) as {
    deviceId: string;
    ok: boolean;
    device: { name: string; online: boolean };
  };
  expect(result).toMatchObject({ ok: true, device: { name: "Hall light" } });
  expect(out.stderr).toContain("waiting for");
  await eventually(
    () => getDevice(s, admin, result.deviceId),
    (d) => d.online,
  );
});

test("interactive pairing: pick from the live list, answer the prompts, see it join", async () => {
  const out = await cli(s.dataDir, ["pair"], "1\nhome\nright-pw\nDesk lamp\n");
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/1\) OpenGenie-/);
  expect(out.stdout).toContain("Wi-Fi password: ");
  expect(out.stdout).toMatch(/paired: Desk lamp \(light\) joined as dev_/);
  expect(out.stdout).not.toContain("right-pw");
});
