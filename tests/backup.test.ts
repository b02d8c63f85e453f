import { afterEach, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createManualClock } from "../src/core/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { storedState } from "./helpers/stored-state.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation } from "./helpers/test-station.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function temp() {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "backup while running, restore into a new data dir: same station, users, tokens, devices and state",
  async () => {
    const original = temp();
    const clock = createManualClock(Date.now());
    const s = await startTestStation({ dataDir: original, clock });
    const admin = await s.userToken("bk-admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Porch", "switch");
    const sim = simFor(credentials, "switch");
    await sim.start();
    await sim.publishState({ power: "on" });
    await eventually(
      () => getDevice(s, admin, device.id),
      (d) => d.state.power === "on",
    );
    // State reaches the file with the next batched write, once a second on the station's clock.
    clock.advance(1000);
    await eventually(
      async () => storedState(original, device.id),
      (state) => state?.power === "on",
    );

    const file = join(temp(), "station.backup");
    const backup = await cli(original, ["backup", "--out", file]);
    await sim.stop();
    await s.stop();
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain("1 devices");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const restored = join(temp(), "restored");
    const restore = await cli(restored, ["restore", file]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`restored station ${s.config.stationId}`);

    const again = await startTestStation({ dataDir: restored });
    cleanups.push(() => again.stop());
    expect(again.config.stationId).toBe(s.config.stationId);
    // The token issued before the backup still verifies: the secret came back too.
    expect(await getDevice(again, admin, device.id)).toMatchObject({ name: "Porch", state: { power: "on" } });
    expect((await again.login("bk-admin")).length).toBeGreaterThan(20);
  },
  30_000,
);

test("restore refuses a running station, a file that is not a backup, and replacing data without --force", async () => {
  const dataDir = temp();
  const s = await startTestStation({ dataDir });
  const file = join(temp(), "b.backup");
  expect((await cli(dataDir, ["backup", "--out", file])).code).toBe(0);
  const running = await cli(dataDir, ["restore", file]);
  expect(running.code).toBe(1);
  expect(running.stderr).toContain("stop it first");
  await s.stop();

  const garbage = join(temp(), "garbage.backup");
  writeFileSync(garbage, "not a database at all, just text");
  const bad = await cli(dataDir, ["restore", garbage]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("not an OpenGenie backup");

  const noForce = await cli(dataDir, ["restore", file]);
  expect(noForce.code).toBe(1);
  expect(noForce.stderr).toContain("--force");
  expect((await cli(dataDir, ["restore", file, "--force"])).code).toBe(0);
});
