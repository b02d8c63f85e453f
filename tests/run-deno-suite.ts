#!/usr/bin/env bun
/**
 * `npm run test:deno`: the end-to-end tests in tests/ against stations and `opengenie`
 * commands running on Deno 2 (OPENGENIE_TEST_RUNTIME=deno; the tests stay on `bun test`).
 * Files left out are printed with the reason, as docs/deno.md lists them; single tests that
 * cannot run on Deno are skipped by bunOnly() with the reason in their name.
 *
 *   bun tests/run-deno-suite.ts [extra bun test arguments]
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./helpers/station-runtime.ts";

const NO_STATION = "starts no station: the same on either runtime, it runs in the Bun suite";

/** Test files not run against Deno, and why. */
export const NOT_ON_DENO: Record<string, string> = {
  "route-access.test.ts":
    "checks the route table of the in-process station object (its module list), which a Deno process does not expose",
  "compiled-binary.test.ts": `the Bun-compiled release binary; ${NO_STATION}`,
  "arm64-binary.test.ts": `the Bun-compiled arm64 binary under qemu; ${NO_STATION}`,
  "release-set.test.ts": `the release build (build.ts); ${NO_STATION}`,
  "install-script.test.ts": `install.sh; ${NO_STATION}`,
  "install-service.test.ts": `install.sh and the systemd unit for the release binary; ${NO_STATION}`,
  "web-bundle.test.ts": `the generated web bundle; ${NO_STATION}`,
  "deno-cross-runtime.test.ts": "runs Bun and Deno stations itself; it runs in the Bun suite",
};

const testsDir = join(repoRoot, "tests");
const files = readdirSync(testsDir)
  .filter((f) => f.endsWith(".test.ts"))
  .sort();
for (const file of files.filter((f) => NOT_ON_DENO[f])) {
  console.log(`not on Deno: tests/${file}: ${NOT_ON_DENO[file]}`);
}
const run = files.filter((f) => !NOT_ON_DENO[f]).map((f) => join("tests", f));
const proc = Bun.spawn(
  [process.execPath, "test", "--timeout", "60000", ...process.argv.slice(2), ...run.map((f) => `./${f}`)],
  {
    cwd: repoRoot,
    env: { ...process.env, OPENGENIE_TEST_RUNTIME: "deno" },
    stdio: ["inherit", "inherit", "inherit"],
  },
);
process.exit(await proc.exited);
