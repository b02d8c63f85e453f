/**
 * install.sh as root on a real install (CONTRACT.md section 8), inside a sandbox that keeps
 * this machine untouched (tests/helpers/install-sandbox.ts): the system user and its group,
 * the data dir it owns, the unit enabled and started, the wait for /api/health, the URL and
 * the next step it prints (and that next step working), a same-version re-run that restarts
 * nothing, an upgrade that keeps the data, an upgrade that does not answer and is rolled
 * back, and an uninstall that keeps or purges.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryName } from "../build.ts";
import { createInstallSandbox, type InstallSandbox, sandboxUnavailable } from "./helpers/install-sandbox.ts";
import { freePort } from "./helpers/mosquitto.ts";
import {
  distDir,
  ensureNextRelease,
  ensureRelease,
  nextVersion,
  pkgVersion,
} from "./helpers/release-build.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { waitFor } from "./helpers/wait-for.ts";

const unavailable = sandboxUnavailable();
if (unavailable) console.warn(`install.sh as root in a sandbox: skipped (${unavailable})`);
const script = join(repoRoot, "install.sh");
const asset = binaryName("x64");

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

beforeAll(async () => {
  if (!unavailable) await Promise.all([ensureRelease(["x64"]), ensureNextRelease()]);
}, 180_000);

interface Station {
  sandbox: InstallSandbox;
  port: number;
  install(base?: string, env?: Record<string, string>): ReturnType<InstallSandbox["run"]>;
  health(): Promise<{ version: string } | undefined>;
  login(username: string, password: string): Promise<number>;
}

/** A sandbox with a bluetooth group and a config.json that puts the station on free loopback ports. */
async function sandboxedStation(): Promise<Station> {
  const sandbox = createInstallSandbox();
  cleanups.push(() => sandbox.remove());
  writeFileSync(
    sandbox.path("/etc/group"),
    `${readFileSync(sandbox.path("/etc/group"), "utf8")}bluetooth:x:4242:\n`,
  );
  const port = await freePort();
  const dataDir = sandbox.path("/var/lib/opengenie");
  mkdirSync(dataDir);
  writeFileSync(
    join(dataDir, "config.json"),
    JSON.stringify({ host: "127.0.0.1", port, mqttPort: await freePort(), advertiseHost: "127.0.0.1" }),
  );
  return {
    sandbox,
    port,
    install: (base = distDir, env = {}) =>
      sandbox.run(["dash", script], {
        env: {
          OPENGENIE_DOWNLOAD_URL: `file://${base}`,
          OPENGENIE_PREFIX: sandbox.prefix,
          OPENGENIE_HEALTH_TIMEOUT: "20",
          ...env,
        },
      }),
    async health() {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/health`);
        return (await res.json()) as { version: string };
      } catch {
        return undefined;
      }
    },
    async login(username, password) {
      const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      return res.status;
    },
  };
}

const hash = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const passwdEntry = (s: InstallSandbox) =>
  readFileSync(s.path("/etc/passwd"), "utf8")
    .split("\n")
    .find((line) => line.startsWith("opengenie:"));

/** The owner account, created with the very command install.sh prints as the next step. */
async function addOwner(station: Station) {
  const bin = join(station.sandbox.prefix, "bin", "opengenie");
  const added = await station.sandbox.runAsService(
    [bin, "user", "add", "alice", "--role", "owner", "--password-stdin", "--data-dir", "/var/lib/opengenie"],
    "a-long-password\n",
  );
  expect(added.stderr).toBe("");
  expect(added.code).toBe(0);
}

describe.skipIf(Boolean(unavailable))("install.sh as root", () => {
  test("creates the user, its data dir and an enabled service, waits for it, prints the URL and the next step", async () => {
    const station = await sandboxedStation();
    const { sandbox } = station;
    const result = await station.install();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    // The system user, in group bluetooth, with no login; this machine's /etc has none.
    expect(passwdEntry(sandbox)).toMatch(
      /^opengenie:x:\d+:\d+:OpenGenie Station:\/var\/lib\/opengenie:\/usr\/sbin\/nologin$/,
    );
    expect(readFileSync(sandbox.path("/etc/group"), "utf8")).toContain("bluetooth:x:4242:opengenie\n");
    expect(readFileSync("/etc/passwd", "utf8")).not.toContain("opengenie:");
    const uid = Number(passwdEntry(sandbox)?.split(":")[2]);
    const data = statSync(sandbox.path("/var/lib/opengenie"));
    expect({ uid: data.uid, mode: data.mode & 0o7777 }).toEqual({ uid, mode: 0o750 });

    const unit = readFileSync(sandbox.path("/etc/systemd/system/opengenie.service"), "utf8").split("\n");
    expect(unit).toContain("SupplementaryGroups=bluetooth");
    expect(unit).toContain(`ExecStart=${sandbox.prefix}/bin/opengenie serve`);
    expect(
      lstatSync(
        sandbox.path("/etc/systemd/system/multi-user.target.wants/opengenie.service"),
      ).isSymbolicLink(),
    ).toBe(true);
    expect(sandbox.systemctlCalls()).toEqual([
      "is-active --quiet opengenie",
      "daemon-reload",
      "enable --quiet opengenie",
      "restart opengenie",
    ]);

    // Running as the service user when install.sh returned, and it said where to go.
    expect(await station.health()).toMatchObject({ status: "ok", version: pkgVersion });
    const pid = sandbox.servicePid();
    expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(new RegExp(`^Uid:\\t${uid}\\t`, "m"));
    expect(result.stdout).toContain(`OpenGenie Station ${pkgVersion} is running.`);
    expect(result.stdout).toContain(
      `Open http://127.0.0.1:${station.port}/ on a phone or computer on this network.`,
    );
    expect(result.stdout).toContain(
      `sudo -u opengenie ${sandbox.prefix}/bin/opengenie user add <your-name> --role owner --password-stdin --data-dir /var/lib/opengenie`,
    );
    // The first-run link (issue 15): the one-time code the station wrote, private to its user.
    const codeFile = sandbox.path("/var/lib/opengenie/setup-code");
    const code = readFileSync(codeFile, "utf8").trim();
    expect({ uid: statSync(codeFile).uid, mode: statSync(codeFile).mode & 0o777 }).toEqual({
      uid,
      mode: 0o600,
    });
    expect(result.stdout).toContain(`    http://127.0.0.1:${station.port}/setup?code=${code}\n`);
    expect(result.stdout).toContain("sudo cat /var/lib/opengenie/setup-code");
    await addOwner(station);
    expect(existsSync(codeFile)).toBe(false);
    expect(await station.login("alice", "a-long-password")).toBe(200);

    // The same version again: no file rewritten, and the running station left alone.
    const files = ["/etc/systemd/system/opengenie.service", "/etc/passwd", "/etc/group"].map((p) =>
      sandbox.path(p),
    );
    files.push(join(sandbox.prefix, "bin", "opengenie"));
    const before = files.map((f) => `${hash(f)} ${statSync(f).mtimeMs}`);
    const calls = sandbox.systemctlCalls().length;
    const again = await station.install();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`opengenie ${pkgVersion} is already installed`);
    expect(again.stdout).toContain("Your data in /var/lib/opengenie was kept.");
    expect(files.map((f) => `${hash(f)} ${statSync(f).mtimeMs}`)).toEqual(before);
    expect(sandbox.systemctlCalls().slice(calls)).toEqual(["enable --quiet opengenie", "start opengenie"]);
    expect(sandbox.servicePid()).toBe(pid);
  }, 120_000);

  test("upgrades in place keeping the data, and puts the previous binary back when the new one does not answer", async () => {
    const station = await sandboxedStation();
    const { sandbox } = station;
    expect((await station.install()).code).toBe(0);
    await addOwner(station);
    const binary = join(sandbox.prefix, "bin", "opengenie");

    const next = await ensureNextRelease();
    const calls = sandbox.systemctlCalls().length;
    const upgrade = await station.install(next);
    expect(upgrade.stderr).toBe("");
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`upgraded opengenie ${pkgVersion} → ${nextVersion}`);
    // Stopped before the swap, started after it.
    expect(sandbox.systemctlCalls().slice(calls)).toEqual([
      "is-active --quiet opengenie",
      "stop opengenie",
      "enable --quiet opengenie",
      "restart opengenie",
    ]);
    expect(hash(binary)).toBe(hash(join(next, asset)));
    expect(await station.health()).toMatchObject({ version: nextVersion });
    expect(await station.login("alice", "a-long-password")).toBe(200);
    expect(existsSync(`${binary}.previous`)).toBe(false);

    // A release whose binary passes its checksum but never answers.
    const broken = makeTempDir("opengenie-broken-");
    cleanups.push(broken.remove);
    writeFileSync(join(broken.path, asset), "#!/bin/sh\necho 'cannot start' >&2\nexit 1\n");
    writeFileSync(join(broken.path, `${asset}.sha256`), `${hash(join(broken.path, asset))}  ${asset}\n`);
    writeFileSync(join(broken.path, "VERSION"), "9.9.9\n");
    const failed = await station.install(broken.path, { OPENGENIE_HEALTH_TIMEOUT: "3" });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      `opengenie 9.9.9 did not answer on /api/health within 3 s, so the previous binary (${nextVersion}) was put back and is running again`,
    );
    expect(hash(binary)).toBe(hash(join(next, asset)));
    expect(existsSync(`${binary}.previous`)).toBe(false);
    expect(await station.health()).toMatchObject({ version: nextVersion });
    expect(await station.login("alice", "a-long-password")).toBe(200);
  }, 120_000);

  test("an upgrade that runs out of disk space stops before the swap and starts the installed version again", async () => {
    const station = await sandboxedStation();
    const { sandbox } = station;
    const next = await ensureNextRelease();
    // The prefix on a file system with room for one binary and not two: the new one cannot
    // be staged beside the old. Both runs share this mount namespace (and its small disk).
    const steps = `mount -t tmpfs -o size=200m,mode=0755 small "$OPENGENIE_PREFIX" || exit 99
      OPENGENIE_DOWNLOAD_URL="file://$1" dash "$3" >/dev/null || exit 98
      OPENGENIE_DOWNLOAD_URL="file://$2" dash "$3"
      echo "upgrade exited $?"
      ls -A "$OPENGENIE_PREFIX/bin"`;
    const result = await sandbox.run(["sh", "-c", steps, "sh", distDir, next, script], {
      env: { OPENGENIE_PREFIX: sandbox.prefix, OPENGENIE_HEALTH_TIMEOUT: "20" },
    });
    // Nothing left beside the installed binary: no half-staged copy, no stray previous one.
    expect(result.stdout.split("upgrade exited ")[1]).toBe("1\nopengenie\n");
    expect(result.stderr).toContain("(is the disk full?");
    expect(result.stderr).toContain("starting the installed version again");
    expect(sandbox.systemctlCalls().slice(-3)).toEqual([
      "is-active --quiet opengenie",
      "stop opengenie",
      "start opengenie",
    ]);
    await waitFor(
      async () => (await station.health())?.version === pkgVersion,
      20_000,
      "the old version answering",
    );
  }, 120_000);

  test("OPENGENIE_NO_SYSTEMD=1 installs user, data dir, binary and unit but runs no systemctl", async () => {
    const station = await sandboxedStation();
    const { sandbox } = station;
    const result = await station.install(distDir, { OPENGENIE_NO_SYSTEMD: "1" });
    expect(result.code).toBe(0);
    expect(sandbox.systemctlCalls()).toEqual([]);
    expect(sandbox.servicePid()).toBeUndefined();
    expect(passwdEntry(sandbox)).toBeDefined();
    expect(existsSync(sandbox.path("/etc/systemd/system/opengenie.service"))).toBe(true);
    expect(existsSync(join(sandbox.prefix, "bin", "opengenie"))).toBe(true);
    expect(result.stdout).toContain("OPENGENIE_NO_SYSTEMD=1, so it was not started.");
    expect(result.stdout).toContain("Start it: sudo systemctl enable --now opengenie");
  }, 60_000);

  test("--uninstall stops and removes the service and keeps data and user; --purge removes them too", async () => {
    const station = await sandboxedStation();
    const { sandbox } = station;
    expect((await station.install()).code).toBe(0);
    expect(sandbox.servicePid()).toBeDefined();
    const uninstall = (...args: string[]) =>
      sandbox.run(["dash", script, "--uninstall", ...args], { env: { OPENGENIE_PREFIX: sandbox.prefix } });

    const kept = await uninstall();
    expect(kept.code).toBe(0);
    expect(sandbox.servicePid()).toBeUndefined();
    expect(existsSync(sandbox.path("/etc/systemd/system/opengenie.service"))).toBe(false);
    expect(existsSync(sandbox.path("/etc/systemd/system/multi-user.target.wants/opengenie.service"))).toBe(
      false,
    );
    expect(existsSync(join(sandbox.prefix, "bin", "opengenie"))).toBe(false);
    expect(existsSync(sandbox.path("/var/lib/opengenie/opengenie.db"))).toBe(true);
    expect(passwdEntry(sandbox)).toBeDefined();

    const purged = await uninstall("--purge");
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain("removed the user opengenie");
    expect(existsSync(sandbox.path("/var/lib/opengenie"))).toBe(false);
    expect(passwdEntry(sandbox)).toBeUndefined();
    expect(readFileSync(sandbox.path("/etc/group"), "utf8")).not.toMatch(/^opengenie:/m);
  }, 120_000);
});
