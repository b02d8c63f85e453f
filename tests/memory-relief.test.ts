/**
 * Once start, a burst of device messages or a burst of API requests is over and the station is
 * quiet, it asks the runtime to give memory back, once per burst (issue 17;
 * src/core/idle-collector.ts, and `bench/burst.ts`, `bench/fleet.ts` for the figures). In
 * process: the test counts the calls on Bun's platform.
 */
import { afterEach, expect } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createBunPlatform } from "../src/platform/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { bunOnly } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const IN_PROCESS = "it counts calls on the in-process station's platform";
let s: TestStation | undefined;
let sim: SimulatedDevice | undefined;
afterEach(async () => {
  await sim?.stop({ graceful: true }).catch(() => {});
  sim = undefined;
  await s?.stop();
  s = undefined;
});

/** A station whose releases are counted; the first one comes once start is over and quiet. */
async function countedStation() {
  const bun = createBunPlatform();
  const counter = { asked: 0 };
  s = await startTestStation({
    platform: {
      ...bun,
      releaseMemory: () => {
        counter.asked++;
        bun.releaseMemory?.();
      },
    },
  });
  await eventually(
    async () => counter.asked,
    (n) => n === 1,
  );
  return counter;
}

bunOnly(IN_PROCESS)(
  "a burst of 24 MB of state reports is followed by one release once it is over",
  async () => {
    const counter = await countedStation();
    const admin = await s!.userToken("admin", "admin");
    const { device, credentials } = await addDevice(s!, admin, "Chatty sensor", "sensor");
    sim = simFor(credentials, "sensor");
    await sim.start();
    await eventually(
      () => getDevice(s!, admin, device.id),
      (d) => d.online,
    );
    expect(counter.asked).toBe(1); // a few requests and a handshake are no burst

    const blob = "x".repeat(8 * 1024);
    for (let seq = 1; seq <= 3000; seq++) {
      await sim.publishRaw("state", JSON.stringify({ state: { seq, blob } }));
    }
    await eventually(
      () => getDevice(s!, admin, device.id),
      (d) => d.state.seq === 3000,
    );
    // Quiet now (a heartbeat at most): within the 2 s window and a little, one release.
    await eventually(
      async () => counter.asked,
      (n) => n === 2,
    );
    await Bun.sleep(3000);
    expect(counter.asked).toBe(2);
  },
);

bunOnly(IN_PROCESS)("a burst of 300 API requests is followed by one release once it is over", async () => {
  const counter = await countedStation();
  const admin = await s!.userToken("admin", "admin");
  for (let i = 0; i < 100; i++) expect((await s!.api("/api/health")).status).toBe(200);
  await Bun.sleep(2500);
  expect(counter.asked).toBe(1); // 100 requests are below the threshold

  const answers = await Promise.all(
    Array.from({ length: 300 }, () => s!.api("/api/devices", { token: admin }).then((r) => r.status)),
  );
  expect(answers.every((status) => status === 200)).toBe(true);
  await eventually(
    async () => counter.asked,
    (n) => n === 2,
  );
  await Bun.sleep(3000);
  expect(counter.asked).toBe(2);
});
