/**
 * The Raspberry Pi's binary, dist/opengenie-linux-arm64, run under qemu-user (Debian's
 * qemu-user-static, with the aarch64 glibc from libc6-arm64-cross): it serves /api/health,
 * its CLI creates a user who signs in, and a firmware-sim device joins it over MQTT and
 * obeys a command.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createSimulatedDevice } from "../firmware-sim/index.ts";
import { eventually } from "./helpers/devices.ts";
import { distDir, ensureRelease, pkgVersion } from "./helpers/release-build.ts";
import { runCommand, type SpawnedStation, spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const qemu = Bun.which("qemu-aarch64-static");
const sysroot = "/usr/aarch64-linux-gnu";
const unavailable = !qemu
  ? "qemu-aarch64-static is not installed (apt-get install qemu-user-static; .ci/run does this)"
  : !existsSync(sysroot)
    ? `${sysroot} is missing (apt-get install libc6-arm64-cross; .ci/run does this)`
    : undefined;
if (unavailable) console.warn(`arm64 binary under qemu: skipped (${unavailable})`);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe.skipIf(Boolean(unavailable))("dist/opengenie-linux-arm64 under qemu-aarch64-static", () => {
  test("serves /api/health, creates a user who signs in, and accepts a device over MQTT", async () => {
    await ensureRelease(["arm64"]);
    const arm64 = [qemu!, "-L", sysroot, join(distDir, "opengenie-linux-arm64")];
    const temp = makeTempDir("opengenie-arm64-");
    cleanups.push(temp.remove);
    const dataDir = join(temp.path, "data");

    let station: SpawnedStation | undefined;
    cleanups.push(() => {
      if (station && station.proc.exitCode === null) station.proc.kill("SIGKILL");
    });
    station = await spawnStation(dataDir, { cmd: arm64, cwd: temp.path, timeoutMs: 60_000 });
    const api = `http://127.0.0.1:${station.info.httpPort}`;
    const health = await fetch(`${api}/api/health`);
    expect(await health.json()).toMatchObject({
      status: "ok",
      version: pkgVersion,
      mqtt: { connected: true },
    });

    const added = await runCommand(
      [...arm64, "user", "add", "pi", "--role", "owner", "--password-stdin", "--data-dir", dataDir],
      { stdin: "a-long-password\n", cwd: temp.path, env: { HOME: temp.path } },
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const login = await fetch(`${api}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "pi", password: "a-long-password" }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${api}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
      });

    const created = await call("/api/devices", {
      method: "POST",
      body: JSON.stringify({ name: "Desk", type: "light" }),
    });
    expect(created.status).toBe(201);
    const { credentials } = (await created.json()) as {
      credentials: {
        stationId: string;
        deviceId: string;
        mqttHost: string;
        mqttPort: number;
        mqttPassword: string;
      };
    };
    const device = createSimulatedDevice({
      url: `mqtt://${credentials.mqttHost}:${credentials.mqttPort}`,
      stationId: credentials.stationId,
      deviceId: credentials.deviceId,
      token: credentials.mqttPassword,
      type: "light",
      startTimeoutMs: 20_000,
    });
    cleanups.push(() => device.stop());
    // Resolves once the station acked the handshake over MQTT.
    await device.start();
    expect(device.ready).toBe(true);

    const online = await eventually(
      async () =>
        (
          (await (await call(`/api/devices/${credentials.deviceId}`)).json()) as {
            device: { online: boolean };
          }
        ).device,
      (d) => d.online,
      10_000,
    );
    expect(online.online).toBe(true);
    const command = await call(`/api/devices/${credentials.deviceId}/commands?wait=10000`, {
      method: "POST",
      body: JSON.stringify({ action: "set_brightness", params: { brightness: 40 } }),
    });
    expect(await command.json()).toMatchObject({ status: "ok" });
    expect(device.state).toMatchObject({ brightness: 40 });

    await device.stop();
    expect(await station.terminate()).toBe(0);
  }, 180_000);
});
