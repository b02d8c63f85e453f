/**
 * `npm run build` (build.ts) makes the whole release set install.sh downloads (CONTRACT.md
 * section 8), so a file:// URL of dist/ is a complete download location.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { binaryName } from "../build.ts";
import { distDir, ensureRelease, pkgVersion } from "./helpers/release-build.ts";
import { repoRoot } from "./helpers/spawn-station.ts";

const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));
const script = join(repoRoot, "install.sh");

describe("the release set", () => {
  test("`npm run build` leaves binaries, checksums, install.sh and VERSION in dist/", async () => {
    await ensureRelease(["x64", "arm64"]);
    for (const arch of ["x64", "arm64"] as const) {
      const name = binaryName(arch);
      expect(statSync(join(distDir, name)).mode & 0o111).toBe(0o111);
      expect(readFileSync(join(distDir, `${name}.sha256`), "utf8")).toMatch(
        new RegExp(`^[0-9a-f]{64}  ${name}\n$`),
      );
    }
    // The checksum files are what sha256sum -c reads, and they match.
    const check = spawnSync(
      "sha256sum",
      ["-c", `${binaryName("x64")}.sha256`, `${binaryName("arm64")}.sha256`],
      {
        cwd: distDir,
        encoding: "utf8",
      },
    );
    expect(check.stdout).toBe(`${binaryName("x64")}: OK\n${binaryName("arm64")}: OK\n`);
    expect(sameBytes(join(distDir, "install.sh"), script)).toBe(true);
    expect(statSync(join(distDir, "install.sh")).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(distDir, "VERSION"), "utf8")).toBe(`${pkgVersion}\n`);
  }, 180_000);
});
