/**
 * The compiled executable starts with the JIT's tier-up thresholds scaled up (build.ts,
 * `compile.jitPolicy`), so run-once start-up code is not compiled; the station puts the normal
 * policy back once it has started and then been quiet, just before its first memory release
 * (`platform.startupDone`, issue 17): the first requests after start are run-once work too. In
 * process: the test watches the calls on Bun's platform.
 */
import { afterAll, expect } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createBunPlatform } from "../src/platform/index.ts";
import { eventually } from "./helpers/devices.ts";
import { bunOnly } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const temp = makeTempDir();
let s: TestStation | undefined;
afterAll(async () => {
  await s?.stop();
  temp.remove();
});

bunOnly("it watches calls on the in-process station's platform")(
  "the normal JIT policy is put back once, after start and the first requests, before the first release",
  async () => {
    const bun = createBunPlatform();
    const calls: string[] = [];
    const dataDir = join(temp.path, "data");
    s = await startTestStation({
      dataDir,
      platform: {
        ...bun,
        startupDone: () => {
          calls.push(
            existsSync(join(dataDir, "run", "station.json")) ? "policy, after start" : "policy, too early",
          );
          bun.startupDone?.();
        },
        releaseMemory: () => {
          calls.push("release");
          bun.releaseMemory?.();
        },
      },
    });
    // Requests right after start still run under the start-up policy.
    expect((await s.api("/api/health")).status).toBe(200);
    expect(calls).toEqual([]);
    await eventually(
      async () => calls.length,
      (n) => n >= 2,
    );
    expect(calls).toEqual(["policy, after start", "release"]);
  },
);
