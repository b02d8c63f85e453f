/**
 * Which runtime the station under test runs on. The tests themselves always run on
 * `bun test`; with OPENGENIE_TEST_RUNTIME=deno (`npm run test:deno`) every station they start
 * and every `opengenie` command they run is a Deno 2 process instead (docs/deno.md).
 */
import { describe, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { DENO_ALL_PERMISSIONS_FOR, DENO_PERMISSIONS } from "../../src/platform/deno/permissions.ts";
import { denoExecutable } from "./deno-binary.ts";

export const repoRoot = join(import.meta.dir, "..", "..");

export type StationRuntime = "bun" | "deno";

export const stationRuntime: StationRuntime = process.env.OPENGENIE_TEST_RUNTIME === "deno" ? "deno" : "bun";
export const onDeno = stationRuntime === "deno";

export const denoBinary = denoExecutable();

/** Deno's permission set for the station (src/platform/deno/permissions.ts); `--no-prompt` turns a missing one into an error. */
const DENO_RUN_FLAGS = ["--no-prompt", ...DENO_PERMISSIONS];

/** `opengenie` from the checkout on either runtime: `bun bin/opengenie.ts` or `deno run … bin/opengenie.ts`. */
export function opengenieCommand(runtime: StationRuntime = stationRuntime, subcommand?: string): string[] {
  const entry = join(repoRoot, "bin", "opengenie.ts");
  if (runtime !== "deno") return [process.execPath, entry];
  const permissions = subcommand && DENO_ALL_PERMISSIONS_FOR.has(subcommand) ? ["-A"] : DENO_RUN_FLAGS;
  return [denoBinary, "run", ...permissions, entry];
}

/**
 * Deno keeps its transpile cache in DENO_DIR, by default under $HOME, which the tests point at
 * a fresh temp dir: one shared cache keeps every Deno start from compiling the source anew.
 */
export function runtimeEnv(runtime: StationRuntime = stationRuntime): Record<string, string> {
  if (runtime !== "deno") return {};
  return { DENO_DIR: process.env.DENO_DIR ?? join(homedir(), ".cache", "deno"), NO_COLOR: "1" };
}

/** Why a test that advances an injected clock runs only against the in-process (Bun) station. */
export const CLOCK_ONLY_IN_PROCESS =
  "it advances an injected clock, which a station in another process cannot take";
/** Why a test that reads the station object itself runs only in-process. */
export const STATION_OBJECT_ONLY_IN_PROCESS =
  "it reads the in-process station object (its module list), which a Deno process does not expose";

type TestFn = typeof test;
type DescribeFn = typeof describe;

/**
 * `test`, or on Deno a skip whose name carries why the test cannot run there; every such
 * test is also listed in docs/deno.md. Never a silent skip.
 */
export function bunOnly(reason: string): TestFn {
  if (!onDeno) return test;
  const skipped = (name: string, fn: Parameters<TestFn>[1], options?: Parameters<TestFn>[2]) =>
    test.skip(`${name} [skipped on Deno: ${reason}]`, fn, options);
  return skipped as unknown as TestFn;
}

/** `describe`, or on Deno the whole block skipped (its hooks too) with the reason in its name. */
export function describeBunOnly(reason: string): DescribeFn {
  if (!onDeno) return describe;
  const skipped = (name: string, fn: () => void) => describe.skip(`${name} [skipped on Deno: ${reason}]`, fn);
  return skipped as unknown as DescribeFn;
}
