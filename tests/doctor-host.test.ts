/**
 * `opengenie doctor` on what an installed station needs of its machine (issue 10): the
 * systemd unit's state, free disk space, the clock, and the external broker's login, each
 * `[ok]/[warn]/[FAIL]` with a fix, also in `--json`.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, mosquittoPasswdPath, mosquittoPath, startMosquitto } from "./helpers/mosquitto.ts";
import { distDir, ensureRelease } from "./helpers/release-build.ts";
import { runCommand, stationBin } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const temp = makeTempDir("opengenie-doctor-");
afterAll(() => temp.remove());
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const checkout = stationBin;
type Check = { id: string; status: string; detail: string; fix?: string };
type Report = { ok: boolean; checks: Check[] };

let dirs = 0;
async function doctor(env: Record<string, string> = {}, options: { cmd?: string[]; wrap?: string[] } = {}) {
  const dataDir = join(temp.path, `data-${++dirs}`);
  mkdirSync(dataDir);
  const result = await runCommand(
    [...(options.wrap ?? []), ...(options.cmd ?? checkout), "doctor", "--json", "--data-dir", dataDir],
    {
      env: {
        HOME: temp.path,
        OPENGENIE_PORT: "0",
        OPENGENIE_MQTT_PORT: "0",
        // The BLE probe is doctor.test.ts's business; a missing helper answers at once.
        OPENGENIE_BLE_BRIDGE: "/nonexistent/helper",
        ...env,
      },
    },
  );
  let report: Report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`doctor printed no JSON (exit ${result.code}): ${result.stdout}${result.stderr}`);
  }
  return { ...result, report, check: (id: string) => report.checks.find((c) => c.id === id) };
}

/** A `systemctl` first on PATH that answers `show` as systemd would for the given unit state. */
function fakeSystemctl(answer: string, exitCode = 0): string {
  const dir = join(temp.path, `systemctl-${++dirs}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, "systemctl"),
    `#!/bin/sh\n[ "$1" = show ] || exit 2\ncat <<'EOF'\n${answer}\nEOF\nexit ${exitCode}\n`,
  );
  chmodSync(join(dir, "systemctl"), 0o755);
  return `${dir}:${process.env.PATH}`;
}

describe("doctor: the systemd service", () => {
  test("reads the unit's state from systemctl: a crash loop is a failure pointing at the journal", async () => {
    const failed = await doctor({
      PATH: fakeSystemctl(
        "Result=exit-code\nNRestarts=4\nLoadState=loaded\nActiveState=activating\nSubState=auto-restart\nUnitFileState=enabled",
      ),
    });
    expect(failed.check("systemd")).toMatchObject({
      status: "fail",
      detail: "activating (auto-restart), enabled, result exit-code, 4 restart(s)",
      fix: expect.stringContaining("journalctl -u opengenie -n 50"),
    });
    expect(failed.code).toBe(1);

    const running = await doctor({
      PATH: fakeSystemctl(
        "Result=success\nNRestarts=0\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled",
      ),
    });
    expect(running.check("systemd")).toMatchObject({ status: "ok", detail: "active (running), enabled" });
  });

  test("the text report marks each line [ok]/[warn]/[FAIL] and gives the fix under it", async () => {
    const dataDir = join(temp.path, `data-${++dirs}`);
    const result = await runCommand([...checkout, "doctor", "--data-dir", dataDir], {
      env: {
        HOME: temp.path,
        OPENGENIE_BLE_BRIDGE: "/nonexistent/helper",
        PATH: fakeSystemctl(
          "LoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\nUnitFileState=enabled",
        ),
      },
    });
    expect(result.stdout).toContain("[FAIL] systemd service: failed (failed), enabled, result exit-code\n");
    expect(result.stdout).toContain(
      "       fix: see why: journalctl -u opengenie -n 50; then sudo systemctl restart opengenie\n",
    );
    expect(result.stdout).toMatch(/\[ok {2}\] disk space: \d+ MB free for /);
    expect(result.stdout).toMatch(/\[ok {2}\] clock: \d{4}-/);
    expect(result.stdout).toContain("[skip] broker login: embedded broker");
  });

  test("where systemd is not the init system the check is skipped, saying why", async () => {
    const result = await doctor({
      PATH: fakeSystemctl(
        "System has not been booted with systemd as init system (PID 1). Can't operate.",
        1,
      ),
    });
    expect(result.check("systemd")).toMatchObject({
      status: "skip",
      detail: expect.stringContaining("systemd is not running"),
    });
  });
});

describe("doctor: disk space", () => {
  // A small tmpfs of its own in a private mount namespace: real free space, nothing filled up.
  const canMount =
    process.getuid?.() === 0 &&
    spawnSync("unshare", [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount -t tmpfs -o size=1m t /mnt",
    ]).status === 0;

  test.skipIf(!canMount)(
    "under 200 MB free on the data dir's file system is a warning, under 20 MB a failure",
    async () => {
      for (const [size, status] of [
        ["100m", "warn"],
        ["10m", "fail"],
      ] as const) {
        const mountpoint = join(temp.path, `small-${size}`);
        mkdirSync(mountpoint);
        const script = 'mount -t tmpfs -o size="$1" small "$2" && mkdir "$2/data" && shift 2 && exec "$@"';
        const dataDir = join(mountpoint, "data");
        const proc = await runCommand(
          [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            size,
            mountpoint,
            ...checkout,
            "doctor",
            "--json",
            "--data-dir",
            dataDir,
          ],
          {
            env: {
              HOME: temp.path,
              OPENGENIE_PORT: "0",
              OPENGENIE_MQTT_PORT: "0",
              OPENGENIE_BLE_BRIDGE: "/nonexistent/helper",
            },
          },
        );
        const disk = (JSON.parse(proc.stdout) as Report).checks.find((c) => c.id === "disk");
        expect(disk).toMatchObject({ status, detail: expect.stringContaining(`free for ${dataDir}`) });
        expect(disk?.fix).toContain("journalctl --vacuum-size");
      }
    },
  );

  test("plenty of space is ok and says how much", async () => {
    const result = await doctor();
    expect(result.check("disk")).toMatchObject({
      status: "ok",
      detail: expect.stringMatching(/^\d+ MB free for /),
    });
  });
});

describe("doctor: the clock", () => {
  test("the compiled binary compares the clock with its own build time", async () => {
    await ensureRelease(["x64"]);
    const binary = join(distDir, "opengenie-linux-x64");
    const result = await doctor({}, { cmd: [binary] });
    const clock = result.check("clock");
    expect(clock?.status).toBe("ok");
    // build.ts compiled its build time in: the day the binary was written, give or take midnight.
    const built = Date.parse(`${/\(build (\d{4}-\d{2}-\d{2})\)/.exec(clock?.detail ?? "")?.[1]}T00:00:00Z`);
    expect(Math.abs(built - statSync(binary).mtimeMs)).toBeLessThan(2 * 24 * 60 * 60 * 1000);
  }, 180_000);
});

describe.skipIf(!mosquittoPath() || !mosquittoPasswdPath())("doctor: the external broker's login", () => {
  test("logs in with the station's own credential: accepted, refused, or unreachable, each with its fix", async () => {
    const broker = await startMosquitto({
      auth: { users: { opengenie: "station-secret" }, acl: "user opengenie\ntopic readwrite station/#\n" },
    });
    cleanups.push(() => broker.stop());
    const withUrl = (url: string) => doctor({ OPENGENIE_MQTT_URL: url });

    const good = await withUrl(`mqtt://opengenie:station-secret@127.0.0.1:${broker.port}`);
    expect(good.check("broker")).toMatchObject({
      status: "ok",
      detail: `mqtt://127.0.0.1:${broker.port} accepts the station's login (as opengenie)`,
    });

    const wrong = await withUrl(`mqtt://opengenie:not-the-secret@127.0.0.1:${broker.port}`);
    expect(wrong.check("broker")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("refused the station's login (as opengenie)"),
      fix: expect.stringContaining("password file"),
    });
    expect(wrong.code).toBe(1);

    const closed = await freePort();
    const unreachable = await withUrl(`mqtt://opengenie:station-secret@127.0.0.1:${closed}`);
    expect(unreachable.check("broker")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`cannot reach mqtt://127.0.0.1:${closed}`),
      fix: expect.stringContaining("start the broker"),
    });
  }, 30_000);

  test("the embedded broker has no login to check", async () => {
    const result = await doctor();
    expect(result.check("broker")).toMatchObject({
      status: "skip",
      detail: expect.stringContaining("embedded broker"),
    });
  });
});
