/**
 * After a burst of device messages, once traffic is quiet, the station asks the runtime for a
 * collection, so memory a burst used goes back (issue 17; src/core/idle-collector.ts, and
 * `bench/burst.ts` for the figures). In process: the test counts the calls on Bun's platform.
 */
import { afterAll, expect } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createBunPlatform } from "../src/platform/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { bunOnly } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const IN_PROCESS = "it counts calls on the in-process station's platform";
let s: TestStation | undefined;
let sim: SimulatedDevice | undefined;
afterAll(async () => {
  await sim?.stop({ graceful: true }).catch(() => {});
  await s?.stop();
});

bunOnly(IN_PROCESS)(
  "a burst of 24 MB of state reports is followed by one collection once it is over",
  async () => {
    const bun = createBunPlatform();
    let asked = 0;
    s = await startTestStation({
      platform: {
        ...bun,
        collectGarbage: () => {
          asked++;
          bun.collectGarbage?.();
        },
      },
    });
    const admin = await s.userToken("admin", "admin");
    const { device, credentials } = await addDevice(s, admin, "Chatty sensor", "sensor");
    sim = simFor(credentials, "sensor");
    await sim.start();
    await eventually(
      () => getDevice(s!, admin, device.id),
      (d) => d.online,
    );
    expect(asked).toBe(0);

    const blob = "x".repeat(8 * 1024);
    for (let seq = 1; seq <= 3000; seq++) {
      await sim.publishRaw("state", JSON.stringify({ state: { seq, blob } }));
    }
    await eventually(
      () => getDevice(s!, admin, device.id),
      (d) => d.state.seq === 3000,
    );
    // Quiet now (a heartbeat at most): within the 2 s window and a little, one collection.
    await eventually(
      async () => asked,
      (n) => n === 1,
    );
    await Bun.sleep(3000);
    expect(asked).toBe(1);
  },
);
