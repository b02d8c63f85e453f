import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { writeBleakStub } from "../src/ble/bleak-stub.ts";
import { writeBridgeScript } from "../src/ble/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { type PushData, provisioningCandidateSchema } from "../src/protocol/index.ts";
import { eventually, getDevice } from "./helpers/devices.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket, type TestSocket } from "./helpers/ws-client.ts";

const fakeBridge = (args: string) =>
  `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")} --announce-interval-ms 100 ${args}`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function station(bridge: string, clock?: ReturnType<typeof createManualClock>) {
  const s = await startTestStation({ env: { OPENGENIE_BLE_BRIDGE: bridge }, clock });
  cleanups.push(() => s.stop());
  const admin = await s.userToken("pair-admin", "admin");
  return { s, admin };
}

async function watch(s: TestStation, token: string): Promise<TestSocket> {
  const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
  cleanups.push(() => sock.close());
  await sock.next();
  const sub = await sock.request("subscribe", { channel: "provisioning" });
  expect(sub.type).toBe("result");
  return sock;
}

type Candidates = {
  candidates: PushData<"provisioning.candidate">[];
  scanning: boolean;
  helper: { restarts: number };
};
const candidates = async (s: TestStation, token: string) =>
  (await (await s.api("/api/provisioning/candidates", { token })).json()) as Candidates;

describe("BLE pairing with the simulator's fake bridge", () => {
  test("scan → candidates → provision over the API → the device joins over MQTT", async () => {
    const { s, admin } = await station(fakeBridge("--devices 2"));
    const sock = await watch(s, admin);
    const first = await sock.waitFor((f) => f.event === "provisioning.candidate", 10_000);
    const candidate = provisioningCandidateSchema.parse(first.data);
    expect(candidate.name).toMatch(/^OpenGenie-/);
    expect(typeof candidate.rssi).toBe("number");
    await eventually(
      () => candidates(s, admin),
      (c) => c.candidates.length === 2 && c.scanning,
    );

    // A late subscriber first receives the current candidates.
    const late = await watch(s, admin);
    const replayed = await late.waitFor((f) => f.event === "provisioning.candidate");
    expect(replayed.channel).toBe("provisioning");

    const res = await s.api("/api/provisioning/add", {
      method: "POST",
      token: admin,
      body: JSON.stringify({
        address: candidate.address,
        ssid: "home",
        password: "wifi-pass",
        name: "Paired lamp",
        type: "light",
      }),
    });
    expect(res.status).toBe(202);
    const { deviceId } = (await res.json()) as { deviceId: string };
    const result = await sock.waitFor((f) => f.event === "provisioning.result", 15_000);
    expect(result.data).toEqual({ deviceId, ok: true });
    const device = await eventually(
      () => getDevice(s, admin, deviceId),
      (d) => d.online,
    );
    expect(device).toMatchObject({ name: "Paired lamp", type: "light" });
    const cmd = await s.api(`/api/devices/${deviceId}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "turn_on" }),
    });
    expect(cmd.status).toBe(200);
  }, 30_000);

  test("the scan stops and the list clears when the last subscriber leaves", async () => {
    const { s, admin } = await station(fakeBridge("--devices 1"));
    const a = await watch(s, admin);
    await a.waitFor((f) => f.event === "provisioning.candidate", 10_000);
    const b = await watch(s, admin);
    a.close();
    await Bun.sleep(200);
    expect((await candidates(s, admin)).scanning).toBe(true);
    b.close();
    await eventually(
      () => candidates(s, admin),
      (c) => !c.scanning && c.candidates.length === 0,
    );
  }, 20_000);

  test("a helper that crashes mid-scan is restarted and the scan resumes", async () => {
    const tag = `crash-${process.pid}-${Date.now()}`;
    const { s, admin } = await station(fakeBridge(`--devices 1 --wifi-password ${tag}`));
    const sock = await watch(s, admin);
    await sock.waitFor((f) => f.event === "provisioning.candidate", 10_000);
    spawnSync("pkill", ["-9", "-f", tag]);
    await eventually(
      () => candidates(s, admin),
      (c) => c.helper.restarts >= 1 && c.scanning,
      10_000,
    );
    const count = sock.frames.length;
    await sock.waitFor(
      (f) => f.event === "provisioning.candidate" && sock.frames.indexOf(f) >= count,
      10_000,
    );
  }, 30_000);

  test("a wrong Wi-Fi password: credentials written, the device never joins, a precise reason", async () => {
    const clock = createManualClock(Date.now());
    const { s, admin } = await station(fakeBridge("--devices 1 --wifi-password right-one"), clock);
    const sock = await watch(s, admin);
    const found = await sock.waitFor((f) => f.event === "provisioning.candidate", 10_000);
    const address = (found.data as { address: string }).address;
    const res = await s.api("/api/provisioning/add", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ address, ssid: "home", password: "wrong-one", name: "Never", type: "light" }),
    });
    expect(res.status).toBe(202);
    const { deviceId } = (await res.json()) as { deviceId: string };
    await Bun.sleep(300); // the write round trip to the helper
    // Step the clock so this socket keeps answering heartbeats while the join timeout passes.
    for (let i = 0; i < 10; i++) {
      clock.advance(10_000);
      await Bun.sleep(20);
    }
    const result = await sock.waitFor((f) => f.event === "provisioning.result", 5000);
    expect(result.data).toMatchObject({ deviceId, ok: false });
    expect((result.data as { error: string }).error).toContain("never joined: check the Wi-Fi password");
    expect((await s.api(`/api/devices/${deviceId}`, { token: admin })).status).toBe(404);
  }, 30_000);
});

test("no usable bridge: 503 BLE_UNAVAILABLE saying what to do, and no device is created", async () => {
  const { s, admin } = await station("/nonexistent/python3 /nonexistent/ble_bridge.py");
  const res = await s.api("/api/provisioning/add", {
    method: "POST",
    token: admin,
    body: JSON.stringify({
      address: "AA:BB:CC:DD:EE:FF",
      ssid: "home",
      password: "x",
      name: "Lamp",
      type: "light",
    }),
  });
  expect(res.status).toBe(503);
  const err = ((await res.json()) as { error: { code: string; message: string } }).error;
  expect(err.code).toBe("BLE_UNAVAILABLE");
  expect(err.message).toContain("/nonexistent/python3");
  expect(err.message).toContain("opengenie doctor");
  const list = (await (await s.api("/api/devices", { token: admin })).json()) as { devices: unknown[] };
  expect(list.devices).toHaveLength(0);
});

test("provisioning needs the admin role, over HTTP and on the channel", async () => {
  const { s } = await station(fakeBridge("--devices 1"));
  const member = await s.userToken("pair-member", "member");
  expect((await s.api("/api/provisioning/candidates", { token: member })).status).toBe(403);
  const sock = await openSocket(`${s.wsUrl}/ws?token=${member}`);
  cleanups.push(() => sock.close());
  await sock.next();
  expect(await sock.request("subscribe", { channel: "provisioning" })).toMatchObject({
    type: "error",
    code: "FORBIDDEN",
  });
});

test("the real helper without BlueZ: the first provisioning request is already 503, and a bad type is 400", async () => {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const script = writeBridgeScript(dir.path);
  writeBleakStub(dir.path);
  const helper = `env PYTHONPATH=${dir.path} STUB_BLEAK_MODE=no_dbus STUB_BLEAK_LOG=${dir.path}/bleak.log /usr/bin/python3 ${script}`;
  const { s, admin } = await station(helper);
  const add = (type: string) =>
    s.api("/api/provisioning/add", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ address: "AA:BB:CC:DD:EE:01", ssid: "home", password: "x", name: "Lamp", type }),
    });
  expect((await add("toaster")).status).toBe(400);
  const res = await add("light");
  expect(res.status).toBe(503);
  const err = ((await res.json()) as { error: { code: string; message: string } }).error;
  expect(err.code).toBe("BLE_UNAVAILABLE");
  expect(err.message).toContain("apt-get install bluez");
  const list = (await (await s.api("/api/devices", { token: admin })).json()) as { devices: unknown[] };
  expect(list.devices).toHaveLength(0);
}, 20_000);
