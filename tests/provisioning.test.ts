import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeBleakStub } from "../src/ble/bleak-stub.ts";
import { writeBridgeScript } from "../src/ble/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { createBunPlatform } from "../src/platform/index.ts";
import { type PushData, provisioningCandidateSchema } from "../src/protocol/index.ts";
import { eventually, getDevice } from "./helpers/devices.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
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
const appConnections = async (s: TestStation, token: string) =>
  ((await (await s.api("/api/connections", { token })).json()) as { apps: unknown[] }).apps.length;

/** What the station logged about its BLE helper: the pids it started and the helper's stderr. */
function helperLog(s: TestStation) {
  const entries = s.logger.lines.map((l) => JSON.parse(l) as { msg: string; pid?: number; line?: string });
  return {
    pids: entries.filter((e) => e.msg === "ble helper started").map((e) => e.pid!),
    stderr: entries.filter((e) => e.msg === "ble helper stderr").map((e) => e.line!),
  };
}

/** A frame matching `predicate` that arrives after those the socket holds now. */
function nextFrame(sock: TestSocket, predicate: (f: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
  const count = sock.frames.length;
  return sock.waitFor((f) => predicate(f) && sock.frames.indexOf(f) >= count, timeoutMs);
}

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
    expect(await appConnections(s, admin)).toBe(2);
    a.close();
    await eventually(
      () => appConnections(s, admin),
      (n) => n === 1,
    );
    // The station has let `a` go; `b` still watches, so the scan runs on and announces afresh.
    await nextFrame(b, (f) => f.event === "provisioning.candidate");
    expect(await candidates(s, admin)).toMatchObject({ scanning: true, candidates: [expect.anything()] });
    b.close();
    await eventually(
      () => candidates(s, admin),
      (c) => !c.scanning && c.candidates.length === 0,
    );
  }, 20_000);

  test("a helper that crashes mid-scan is restarted and the scan resumes", async () => {
    const { s, admin } = await station(fakeBridge("--devices 1"));
    const sock = await watch(s, admin);
    await sock.waitFor((f) => f.event === "provisioning.candidate", 10_000);
    const [helperPid] = helperLog(s).pids;
    expect(helperLog(s).pids).toHaveLength(1);
    process.kill(helperPid!, "SIGKILL"); // the helper this station started, by its pid
    await eventually(
      () => candidates(s, admin),
      (c) => c.helper.restarts >= 1 && c.scanning,
      10_000,
    );
    expect(helperLog(s).pids).toEqual([helperPid!, expect.any(Number)]);
    expect(helperLog(s).pids[1]).not.toBe(helperPid);
    await nextFrame(sock, (f) => f.event === "provisioning.candidate");
  }, 30_000);

  bunOnly(CLOCK_ONLY_IN_PROCESS)(
    "a wrong Wi-Fi password: credentials written, the device never joins, a precise reason",
    async () => {
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
      // The write's own 30 s timeout runs on this clock too, so time moves only once the fake
      // helper has answered the write (stdout) and then logged the failed Wi-Fi join (stderr, which
      // the station keeps in its log). Were the answer still behind, one 10 s step leaves it 20 s.
      await eventually(
        async () => helperLog(s).stderr,
        (lines) => lines.some((l) => l.includes("Wi-Fi join failed: wrong password")),
      );
      // Step the clock through the join timeout. Two ping round trips per step let the platform
      // WebSocket's pong reach the station before the next step (as in ws-limits' heartbeat test).
      const isResult = (f: unknown) => (f as { event?: string }).event === "provisioning.result";
      for (let step = 0; !sock.frames.some(isResult); step++) {
        if (step === 30) throw new Error("no provisioning.result within 300 s of clock time");
        clock.advance(10_000);
        await sock.request("ping");
        await sock.request("ping");
      }
      const result = sock.frames.find(isResult) as { data: unknown };
      expect(result.data).toMatchObject({ deviceId, ok: false });
      expect((result.data as { error: string }).error).toContain("never joined: check the Wi-Fi password");
      expect((await s.api(`/api/devices/${deviceId}`, { token: admin })).status).toBe(404);
    },
    30_000,
  );
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
  const script = writeBridgeScript(dir.path, createBunPlatform().embedded.bleBridgeScript);
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
