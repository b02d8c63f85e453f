/**
 * The release set `npm run build` makes (build.ts), built at most once per test run and
 * shared by every test that installs or runs it: dist/ at the checkout's version, and a
 * second x64 release at the next patch version for upgrades.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Arch, binaryIsCurrent, binaryName } from "../../build.ts";
import { repoRoot, runCommand } from "./spawn-station.ts";

export const distDir = join(repoRoot, "dist");
export const pkgVersion: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;
/** A version the checkout is not: what an upgrade installs. */
export const nextVersion = pkgVersion.replace(/(\d+)$/, (patch) => String(Number(patch) + 1));
const nextDir = join(repoRoot, ".cache", "release-next");

async function build(arches: readonly Arch[], version: string, outDir: string): Promise<void> {
  const target = arches.length === 1 ? arches[0]! : "all";
  const result = await runCommand(
    [process.execPath, join(repoRoot, "build.ts"), "--target", target, "--out-dir", outDir],
    // bun test sets NODE_ENV=test; a release is built as `npm run build` builds it.
    { env: { NODE_ENV: "", OPENGENIE_VERSION: version } },
  );
  if (result.code !== 0) {
    throw new Error(
      `bun build.ts --target ${target} failed (${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

/** Whether what build.ts made in `outDir` is still what it would make now. */
function releaseIsCurrent(arch: Arch, version: string, outDir: string): boolean {
  return (
    binaryIsCurrent(arch, outDir) &&
    existsSync(`${join(outDir, binaryName(arch))}.sha256`) &&
    read(join(outDir, "VERSION")) === `${version}\n` &&
    read(join(outDir, "install.sh")) === read(join(repoRoot, "install.sh"))
  );
}

const pending = new Map<string, Promise<string>>();

/** Runs build.ts for what is stale of the release set in `outDir` at `version`. */
function ensure(arches: readonly Arch[], version: string, outDir: string): Promise<string> {
  const key = `${outDir}|${version}|${arches.join(",")}`;
  let done = pending.get(key);
  if (!done) {
    done = (async () => {
      const stale = arches.filter((arch) => !releaseIsCurrent(arch, version, outDir));
      if (stale.length > 0) await build(stale, version, outDir);
      return outDir;
    })();
    pending.set(key, done);
    done.catch(() => pending.delete(key));
  }
  return done;
}

/** dist/ as `npm run build` leaves it, with at least these architectures' binaries. */
export function ensureRelease(arches: readonly Arch[] = ["x64"]): Promise<string> {
  return ensure(arches, pkgVersion, distDir);
}

/** A second x64 release at `nextVersion`, in .cache/release-next/. */
export function ensureNextRelease(): Promise<string> {
  return ensure(["x64"], nextVersion, nextDir);
}
