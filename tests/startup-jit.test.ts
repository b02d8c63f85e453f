/**
 * The compiled executable starts with the JIT's tier-up thresholds scaled up (build.ts,
 * `compile.jitPolicy`), so run-once start-up code is not compiled; the station puts the normal
 * policy back once it has started (`platform.startupDone`, issue 17). In process: the test
 * watches the calls on Bun's platform.
 */
import { afterAll, expect } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createBunPlatform } from "../src/platform/index.ts";
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
  "the normal JIT policy is put back once, when the station has started, and Bun accepts it",
  async () => {
    const bun = createBunPlatform();
    const calls: { runFileWritten: boolean }[] = [];
    const dataDir = join(temp.path, "data");
    s = await startTestStation({
      dataDir,
      platform: {
        ...bun,
        startupDone: () => {
          calls.push({ runFileWritten: existsSync(join(dataDir, "run", "station.json")) });
          bun.startupDone?.();
        },
      },
    });
    expect(calls).toEqual([{ runFileWritten: true }]);
    expect((await s.api("/api/health")).status).toBe(200);
  },
);
