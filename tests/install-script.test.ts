/**
 * install.sh (CONTRACT.md section 8) run under dash, as `curl … | sh` runs it on Debian and
 * Raspberry Pi OS, into a staging root (OPENGENIE_ROOT) from a file:// base that the build
 * made: what it installs, what it refuses, what a re-run, an upgrade and an uninstall leave.
 * The real install (user, systemctl, health check, rollback) is tests/install-service.test.ts.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { binaryName } from "../build.ts";
import {
  distDir,
  ensureNextRelease,
  ensureRelease,
  nextVersion,
  pkgVersion,
} from "./helpers/release-build.ts";
import { repoRoot, runCommand } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const script = join(repoRoot, "install.sh");
const asset = binaryName("x64");
const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const shells = [["dash"], ...(has("busybox") ? [["busybox", "sh"]] : [])];
if (!has("busybox")) console.warn("install.sh under busybox ash: skipped (busybox is not installed)");

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  cleanups.push(dir.remove);
  return dir.path;
}

beforeAll(() => ensureRelease(["x64"]), 180_000);

interface InstallRun {
  root: string;
  base?: string;
  env?: Record<string, string>;
  args?: string[];
  shell?: string[];
}
function install({ root, base = distDir, env = {}, args = [], shell = ["dash"] }: InstallRun) {
  return runCommand([...shell, script, ...args], {
    env: { OPENGENIE_ROOT: root, OPENGENIE_DOWNLOAD_URL: `file://${base}`, ...env },
  });
}

/** Every file under `dir` with its bytes' hash, mode and mtime: what "left untouched" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string) => {
    const stat = statSync(path);
    const key = relative(dir, path) || ".";
    if (stat.isDirectory()) {
      out[key] = `dir ${(stat.mode & 0o7777).toString(8)}`;
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else {
      const hash = new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
      out[key] = `${hash} ${(stat.mode & 0o7777).toString(8)} ${stat.mtimeMs}`;
    }
  };
  visit(dir);
  return out;
}

const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));
const unitPath = (root: string) => join(root, "etc", "systemd", "system", "opengenie.service");
const dataDir = (root: string) => join(root, "var", "lib", "opengenie");

/** Data a station would have written: the database, its identity, a config. */
function writeData(root: string) {
  const dir = dataDir(root);
  writeFileSync(join(dir, "opengenie.db"), "SQLite format 3\0 (the devices and users)");
  writeFileSync(join(dir, "station-id"), "st-0123456789ab\n");
  writeFileSync(join(dir, "config.json"), '{"port": 8081}\n');
}

describe("install.sh into a staging root (OPENGENIE_ROOT)", () => {
  for (const shell of shells) {
    test(`under ${shell.join(" ")}: a good checksum installs the binary, a hardened unit and the data dir (0750)`, async () => {
      const root = tempDir("opengenie-root-");
      const result = await install({ root, shell });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`installed opengenie ${pkgVersion}`);

      const binary = join(root, "usr", "local", "bin", "opengenie");
      expect(sameBytes(binary, join(distDir, asset))).toBe(true);
      expect(statSync(binary).mode & 0o777).toBe(0o755);
      expect((await runCommand([binary, "version"])).stdout.trim()).toBe(pkgVersion);

      const unit = readFileSync(unitPath(root), "utf8");
      for (const line of [
        "User=opengenie",
        "ExecStart=/usr/local/bin/opengenie serve",
        "Environment=OPENGENIE_DATA_DIR=/var/lib/opengenie",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/opengenie",
        "LimitNOFILE=65536",
        "WantedBy=multi-user.target",
      ]) {
        expect(unit.split("\n")).toContain(line);
      }
      // The staging root has no bluetooth group, and the station needs no capability.
      expect(unit).not.toContain("SupplementaryGroups");
      expect(unit).not.toContain("AmbientCapabilities=");
      expect(statSync(unitPath(root)).mode & 0o777).toBe(0o644);

      expect(statSync(dataDir(root)).mode & 0o7777).toBe(0o750);
      // Nothing else: no temp file or download left behind.
      expect(Object.keys(snapshot(root)).filter((p) => !statSync(join(root, p)).isDirectory())).toEqual([
        "etc/systemd/system/opengenie.service",
        "usr/local/bin/opengenie",
      ]);
    }, 60_000);
  }

  test("the unit asks for group bluetooth where it exists; OPENGENIE_PREFIX moves the binary", async () => {
    const root = tempDir("opengenie-root-");
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc", "group"), "root:x:0:\nbluetooth:x:112:\n");
    const result = await install({ root, env: { OPENGENIE_PREFIX: "/opt/opengenie" } });
    expect(result.code).toBe(0);
    expect(existsSync(join(root, "opt", "opengenie", "bin", "opengenie"))).toBe(true);
    expect(existsSync(join(root, "usr", "local", "bin", "opengenie"))).toBe(false);
    const unit = readFileSync(unitPath(root), "utf8").split("\n");
    expect(unit).toContain("SupplementaryGroups=bluetooth");
    expect(unit).toContain("ExecStart=/opt/opengenie/bin/opengenie serve");
  }, 60_000);

  test("a tampered .sha256 exits non-zero and installs nothing", async () => {
    const base = tempDir("opengenie-base-");
    symlinkSync(join(distDir, asset), join(base, asset));
    cpSync(join(distDir, "VERSION"), join(base, "VERSION"));
    const good = readFileSync(join(distDir, `${asset}.sha256`), "utf8");
    const flipped = (good[0] === "0" ? "1" : "0") + good.slice(1);
    writeFileSync(join(base, `${asset}.sha256`), flipped);

    const root = tempDir("opengenie-root-");
    const result = await install({ root, base });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`checksum mismatch for ${asset}`);
    expect(result.stderr).toContain("nothing was installed");
    expect(readdirSync(root)).toEqual([]);
  }, 60_000);

  test("a re-run with the same version leaves every file byte-identical and the data untouched", async () => {
    const root = tempDir("opengenie-root-");
    expect((await install({ root })).code).toBe(0);
    writeData(root);
    const before = snapshot(root);

    const again = await install({ root });
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`opengenie ${pkgVersion} is already installed`);
    // Same bytes, modes and modification times: nothing was even rewritten.
    expect(snapshot(root)).toEqual(before);
  }, 60_000);

  test("a new version upgrades in place and keeps the data; a base of another version is refused", async () => {
    const next = await ensureNextRelease();
    const root = tempDir("opengenie-root-");
    expect((await install({ root })).code).toBe(0);
    writeData(root);
    const data = snapshot(dataDir(root));
    const unit = readFileSync(unitPath(root));

    // OPENGENIE_VERSION names the version; a base that holds another one is refused untouched.
    const mismatch = await install({ root, env: { OPENGENIE_VERSION: nextVersion } });
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toContain(
      `holds version ${pkgVersion}, not the OPENGENIE_VERSION=${nextVersion}`,
    );
    expect(sameBytes(join(root, "usr", "local", "bin", "opengenie"), join(distDir, asset))).toBe(true);

    const upgrade = await install({ root, base: next, env: { OPENGENIE_VERSION: `v${nextVersion}` } });
    expect(upgrade.stderr).toBe("");
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`→ ${nextVersion}`);
    const binary = join(root, "usr", "local", "bin", "opengenie");
    expect(sameBytes(binary, join(next, asset))).toBe(true);
    expect((await runCommand([binary, "version"])).stdout.trim()).toBe(nextVersion);
    expect(existsSync(`${binary}.previous`)).toBe(false);
    expect(snapshot(dataDir(root))).toEqual(data);
    expect(readFileSync(unitPath(root)).equals(unit)).toBe(true);
  }, 120_000);

  test("--uninstall removes binary and unit and keeps the data; --uninstall --purge removes the data", async () => {
    const root = tempDir("opengenie-root-");
    expect((await install({ root })).code).toBe(0);
    writeData(root);
    const data = snapshot(dataDir(root));

    const uninstall = await install({ root, args: ["--uninstall"] });
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain("kept your data in /var/lib/opengenie");
    expect(existsSync(join(root, "usr", "local", "bin", "opengenie"))).toBe(false);
    expect(existsSync(unitPath(root))).toBe(false);
    expect(snapshot(dataDir(root))).toEqual(data);

    // Again: nothing left to remove is not an error.
    expect((await install({ root, args: ["--uninstall"] })).code).toBe(0);

    const purge = await install({ root, args: ["--uninstall", "--purge"] });
    expect(purge.code).toBe(0);
    expect(existsSync(dataDir(root))).toBe(false);
  }, 60_000);

  test("a 32-bit machine (uname -m armv7l, i686) is refused in one clear line, installing nothing", async () => {
    for (const machine of ["armv7l", "i686"]) {
      // A `uname` first on PATH that reports a 32-bit machine, as a Raspberry Pi 2 or an old PC would.
      const shim = tempDir("opengenie-uname-");
      writeFileSync(
        join(shim, "uname"),
        `#!/bin/sh\ncase "$1" in -m) echo ${machine} ;; -s) echo Linux ;; *) exec /bin/uname "$@" ;; esac\n`,
      );
      chmodSync(join(shim, "uname"), 0o755);
      const root = tempDir("opengenie-root-");
      const result = await install({ root, env: { PATH: `${shim}:${process.env.PATH}` } });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("32-bit ARM/x86 is not supported");
      expect(lines[0]).toContain(`found ${machine}`);
      expect(lines[0]).toContain("install the 64-bit Raspberry Pi OS");
      expect(readdirSync(root)).toEqual([]);
    }
  }, 60_000);

  test("--help says how to install, upgrade and uninstall, and changes nothing", async () => {
    const root = tempDir("opengenie-root-");
    const result = await install({ root, args: ["--help"] });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: install.sh [--uninstall [--purge]] [--help]");
    for (const name of [
      "OPENGENIE_VERSION",
      "OPENGENIE_DOWNLOAD_URL",
      "OPENGENIE_PREFIX",
      "OPENGENIE_ROOT",
      "OPENGENIE_NO_SYSTEMD",
    ]) {
      expect(result.stdout).toContain(name);
    }
    expect(readdirSync(root)).toEqual([]);
    const unknown = await install({ root, args: ["--frobnicate"] });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown option --frobnicate");
  });
});

describe("install.sh checked by the tools", () => {
  test.skipIf(!has("shellcheck"))("shellcheck -s sh finds nothing", () => {
    const result = spawnSync("shellcheck", ["-s", "sh", script], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test.skipIf(!has("systemd-analyze"))(
    "systemd-analyze verify accepts the unit it writes",
    async () => {
      // The target system's own units (targets the unit names) and the staged binary, as on a Pi.
      const units = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => existsSync(d));
      if (!units) return console.warn("systemd-analyze verify: skipped (no systemd unit directory to stage)");
      const root = tempDir("opengenie-root-");
      mkdirSync(join(root, "usr", "lib", "systemd"), { recursive: true });
      cpSync(units, join(root, "usr", "lib", "systemd", "system"), {
        recursive: true,
        verbatimSymlinks: true,
      });
      expect((await install({ root })).code).toBe(0);

      const verify = (unit: string) =>
        spawnSync("systemd-analyze", ["verify", `--root=${root}`, unit], { encoding: "utf8" });
      // Whether it can run here at all: a unit with nothing in it to doubt.
      const known = join(root, "etc", "systemd", "system", "known-good.service");
      writeFileSync(known, "[Service]\nExecStart=/usr/local/bin/opengenie version\n");
      const probe = verify(known);
      if (probe.status !== 0 || probe.stderr.trim()) {
        return console.warn(`systemd-analyze verify: skipped, it cannot run here: ${probe.stderr.trim()}`);
      }
      const result = verify(unitPath(root));
      // Unknown keys and bad values are only warnings to systemd: none may be printed.
      expect(result.stdout + result.stderr).toBe("");
      expect(result.status).toBe(0);
    },
    60_000,
  );
});
