/**
 * The release artifact itself: the compiled x64 executable starts from an empty directory
 * with nothing but its own file, serves the API, and stops cleanly (CONTRACT.md §1, §5).
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryIsCurrent } from "../build.ts";
import { repoRoot, runCommand, type SpawnedStation, spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const binary = join(repoRoot, "dist", "opengenie-linux-x64");
const pkgVersion: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  cleanups.push(dir.remove);
  return dir.path;
}

async function binaryVersion(): Promise<string> {
  return (await runCommand([binary, "version"], { cwd: tempDir("opengenie-cwd-") })).stdout.trim();
}

beforeAll(
  async () => {
    // A release build (OPENGENIE_VERSION set) left in dist/ is rebuilt with the checkout's version.
    if (binaryIsCurrent("x64") && (await binaryVersion()) === pkgVersion) return;
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_ENV: undefined,
      OPENGENIE_VERSION: undefined,
    };
    const build = Bun.spawn([process.execPath, join(repoRoot, "build.ts"), "--target", "x64"], {
      cwd: repoRoot,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(build.stdout).text(),
      new Response(build.stderr).text(),
      build.exited,
    ]);
    if (code !== 0) throw new Error(`bun build.ts --target x64 failed (${code}):\n${stdout}\n${stderr}`);
  },
  { timeout: 120_000 },
);

describe("compiled binary dist/opengenie-linux-x64", () => {
  test("`version` prints the package.json version", async () => {
    const result = await runCommand([binary, "version"], { cwd: tempDir("opengenie-cwd-") });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkgVersion);
  });

  test("serves /api/health from an empty directory, and SIGTERM exits 0 and removes station.json", async () => {
    const cwd = tempDir("opengenie-cwd-");
    const home = tempDir("opengenie-home-");
    const dataDir = join(tempDir("opengenie-data-"), "data");
    let station: SpawnedStation | undefined;
    cleanups.push(() => {
      if (station && station.proc.exitCode === null) station.proc.kill("SIGKILL");
    });
    station = await spawnStation(dataDir, {
      cmd: [binary],
      cwd,
      args: ["--port", "0", "--mqtt-port", "0"],
      env: { HOME: home, OPENGENIE_ADVERTISE_HOST: "127.0.0.1", OPENGENIE_HOST: "127.0.0.1" },
    });
    expect(station.info.pid).toBe(station.proc.pid);
    // What a person opens, beside the bind address (here one address, so that one).
    const url = `http://127.0.0.1:${station.info.httpPort}/`;
    expect(station.stdout()).toContain(`listening on 127.0.0.1:${station.info.httpPort}`);
    expect(station.stdout()).toContain(`open ${url} on a phone or computer on this network`);
    expect(JSON.parse(readFileSync(join(dataDir, "run", "station.json"), "utf8")).webUrl).toBe(url);

    const health = await fetch(`http://127.0.0.1:${station.info.httpPort}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", version: pkgVersion });

    expect(await station.terminate()).toBe(0);
    expect(existsSync(join(dataDir, "run", "station.json"))).toBe(false);
    // Nothing was written where the binary was started.
    expect(readdirSync(cwd)).toEqual([]);
  });
});
