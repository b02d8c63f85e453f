import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually, getDevice } from "./helpers/devices.ts";
import { driverToken, stationIdOf } from "./helpers/drivers.ts";
import { createHelperHarness, type HelperHarness } from "./helpers/helper-process-harness.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

// examples/virtual-thermostat.ts, run as a user would (one command, its own process), and
// controlled from the HTTP API like any device.
let s: TestStation;
let member: string;
let harness: HelperHarness;
beforeAll(async () => {
  s = await startTestStation();
  member = await s.userToken("thermo-member", "member");
  harness = createHelperHarness();
});
afterAll(async () => {
  await harness.close();
  await s.stop();
});

test("the example thermostat: found through the data dir, set from POST /api/devices/:id/commands?wait, drifting to the setpoint", async () => {
  const token = await driverToken(s, "THERMOSTAT");
  const driver = harness.run(
    [
      process.execPath,
      join(repoRoot, "examples", "virtual-thermostat.ts"),
      "--data-dir",
      s.dataDir,
      "--tick-ms",
      "50",
    ],
    { OPENGENIE_DRIVER_TOKEN: token, OPENGENIE_DATA_DIR: undefined },
  );
  await driver.until(
    () => driver.lines.find((l) => l.startsWith("registered as THERMOSTAT")),
    "the thermostat to register",
  );
  const id = await stationIdOf(s, await s.userToken("thermo-admin", "admin"), "THERMOSTAT", "thermostat-1");
  const device = await eventually(
    () => getDevice(s, member, id),
    (d) => d.online && typeof d.state.current_celsius === "number",
  );
  expect(device).toMatchObject({ name: "Virtual thermostat", type: "climate", transport: "driver" });
  expect(device.commands?.map((c) => c.action)).toEqual(["set_target", "set_mode"]);

  const set = (params: unknown, action = "set_target") =>
    s.api(`/api/devices/${id}/commands?wait=5000`, {
      method: "POST",
      token: member,
      body: JSON.stringify({ action, params }),
    });
  const refused = await set({ celsius: 31 });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");

  const ok = await set({ celsius: 24 });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: "ok" });
  await driver.until(
    () => driver.lines.find((l) => l === 'action set_target {"celsius":24}'),
    "the thermostat to log the action",
  );
  // Heating: the temperature climbs to the setpoint and stays there.
  const warm = await eventually(
    () => getDevice(s, member, id),
    (d) => d.state.current_celsius === 24 && d.state.heating === false,
  );
  expect(warm.state).toMatchObject({ target_celsius: 24, mode: "heat", heating: false });
  expect(warm.metrics).toContainEqual({ key: "current_celsius", value: 24, unit: "°C" });

  expect((await set({ mode: "off" }, "set_mode")).status).toBe(200);
  await eventually(
    () => getDevice(s, member, id),
    (d) => (d.state.current_celsius as number) < 23 && d.state.mode === "off",
  );

  driver.kill("SIGTERM");
  expect(await driver.exit()).toBe(0);
  await eventually(
    () => getDevice(s, member, id),
    (d) => !d.online,
  );
  expect((await set({ celsius: 20 })).status).toBe(409);
});
