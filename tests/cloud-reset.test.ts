import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createSimulatedDevice, type SimulatedDevice } from "../firmware-sim/index.ts";
import { STATION_RESET_EXIT_CODE } from "../src/cloud/station-reset.ts";
import { createdDeviceSchema } from "../src/protocol/index.ts";
import { type FakeCloud, startFakeCloud } from "./fakes/fake-cloud.ts";
import { type SpawnedStation, spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";

let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function cloudRows(dataDir: string): number {
  const db = new Database(join(dataDir, "opengenie.db"));
  try {
    return (db.query("SELECT count(*) AS n FROM cloud_config").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test("station_reset: claim wiped, factory_reset sent to every device, the process exits with the documented code", async () => {
  const dir = makeTempDir();
  cleanup.push(() => dir.remove());
  const cloud: FakeCloud = await startFakeCloud({ claimSecret: "s3cret" });
  cleanup.push(() => cloud.stop());
  const added = await cli(dir.path, ["device", "add", "--name", "Lamp", "--type", "light", "--json"]);
  expect(added.code).toBe(0);
  const { credentials } = createdDeviceSchema.parse(JSON.parse(added.stdout));

  const station: SpawnedStation = await spawnStation(dir.path, {
    env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
  });
  cleanup.push(() => (station.proc.exitCode === null ? station.terminate() : undefined));
  const lamp: SimulatedDevice = createSimulatedDevice({
    url: `mqtt://127.0.0.1:${station.info.mqttPort}`,
    stationId: credentials.stationId,
    deviceId: credentials.deviceId,
    token: credentials.mqttPassword,
    type: "light",
    reconnect: false,
    startTimeoutMs: 10_000,
  });
  cleanup.push(() => lamp.stop({ graceful: false }).catch(() => undefined));
  await lamp.start();
  await cloud.station(15_000);
  expect(cloudRows(dir.path)).toBe(1);

  await cloud.send({ type: "station_reset" });
  const code = await Promise.race([
    station.proc.exited,
    Bun.sleep(15_000).then(() => "still running" as const),
  ]);
  expect(code).toBe(STATION_RESET_EXIT_CODE);
  expect(STATION_RESET_EXIT_CODE).toBe(75); // docs/cloud.md names it
  await waitFor(() => lamp.received.length > 0, 5000, "factory_reset at the device");
  expect(lamp.received.map((r) => r.command.action)).toEqual(["factory_reset"]);
  expect(cloudRows(dir.path)).toBe(0);
  // A graceful stop ran before the exit: the run file is gone.
  expect(existsSync(join(dir.path, "run", "station.json"))).toBe(false);
  expect(station.stdout() + station.stderr()).toContain("station reset by the cloud");
});
