import { afterAll, beforeAll, expect, test } from "bun:test";
import { createdDeviceSchema, deviceListSchema } from "../src/protocol/index.ts";
import { eventually, getDevice, simFor } from "./helpers/devices.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("cli-admin", "admin");
});
afterAll(() => s.stop());

test("`device add --json` on a running station prints the API body, and the device can join with it", async () => {
  const env = { OPENGENIE_ADVERTISE_HOST: "127.0.0.1" };
  const out = await cli(
    s.dataDir,
    ["device", "add", "--name", "Garage", "--type", "switch", "--json"],
    "",
    env,
  );
  expect(out.code).toBe(0);
  const json = JSON.parse(out.stdout);
  expect(Object.keys(json).sort()).toEqual(["credentials", "device"]);
  const body = createdDeviceSchema.parse(json);
  expect(body.credentials).toMatchObject({
    stationId: s.config.stationId,
    deviceId: body.device.id,
    mqttHost: "127.0.0.1",
    mqttPort: s.info.mqttPort,
    mqttUsername: body.device.id,
  });
  const sim = simFor(body.credentials, "switch");
  try {
    await sim.start();
    await eventually(
      () => getDevice(s, admin, body.device.id),
      (d) => d.online && d.state.power === "off",
    );
  } finally {
    await sim.stop();
  }
  const list = await cli(s.dataDir, ["devices", "--json"]);
  expect(deviceListSchema.parse(JSON.parse(list.stdout)).devices.map((d) => d.name)).toContain("Garage");
  const table = await cli(s.dataDir, ["devices"]);
  expect(table.stdout).toContain("Garage");
});

test("`device add` refuses an unknown type with one error line", async () => {
  const out = await cli(s.dataDir, ["device", "add", "--name", "Toaster", "--type", "toaster"]);
  expect(out.code).toBe(1);
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
  expect(out.stderr).toContain("unknown device type toaster");
});
