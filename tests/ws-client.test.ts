import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  createStationClient,
  type Push,
  type StationClient,
  StationClientError,
} from "../src/client/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { addDevice, simFor } from "./helpers/devices.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

let s: TestStation;
let admin: string;
const clients: StationClient[] = [];

beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("client-admin", "admin");
});
afterAll(async () => {
  for (const c of clients) c.close();
  await s.stop();
});

function client(token: string, extra: Partial<Parameters<typeof createStationClient>[0]> = {}) {
  const c = createStationClient({ url: s.wsUrl, token, ...extra });
  clients.push(c);
  return c;
}

/** Resolves with the first value `take` returns from a push, or fails after `timeoutMs`. */
function nextPush<T>(pushes: Push[], take: (p: Push) => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      for (const p of pushes.splice(0)) {
        const value = take(p);
        if (value !== undefined) return resolve(value);
      }
      if (Date.now() > deadline) return reject(new Error("no matching push in time"));
      setTimeout(poll, 10);
    };
    poll();
  });
}

function untilState(c: StationClient, wanted: string, timeoutMs = 5000): Promise<void> {
  if (c.state === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still ${c.state}, wanted ${wanted}`)), timeoutMs);
    const off = c.onStateChange((state) => {
      if (state !== wanted) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe("station client: requests", () => {
  test("connect returns the welcome; ping and auth.whoami answer", async () => {
    const c = client(admin);
    const welcome = await c.connect();
    expect(welcome).toMatchObject({ protocol: "opengenie.v1", stationId: s.config.stationId });
    expect(welcome.user.role).toBe("admin");
    expect(c.state).toBe("open");
    expect((await c.request<{ pong: number }>("ping")).pong).toBeNumber();
    const who = await c.request<{ user: { username: string } }>("auth.whoami");
    expect(who.user.username).toBe("client-admin");
  });

  test("station errors reject with a typed StationClientError", async () => {
    const c = client(admin);
    await c.connect();
    const missing = await c.request("devices.get", { id: "no-such-device" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StationClientError);
    expect(missing).toMatchObject({ code: "NOT_FOUND" });
    const unknown = await c.request("no.such.op").catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "UNKNOWN_OPERATION" });
    const invalid = await c.request("devices.get", { id: 42 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: "VALIDATION_ERROR" });
    expect((invalid as StationClientError).details).toBeArray();
  });

  test("a token the station refuses is fatal: UNAUTHORIZED, no retries", async () => {
    const c = client("not-a-token", { reconnect: { initialMs: 10, maxMs: 20, jitter: 0 } });
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "StationClientError", code: "UNAUTHORIZED" });
    expect(c.state).toBe("failed");
  });

  test("logout closes the socket with 4003: SESSION_REVOKED and no reconnect", async () => {
    await s.addUser("client-leaver", "guest");
    const token = await s.login("client-leaver");
    const c = client(token, { reconnect: { initialMs: 10, maxMs: 20, jitter: 0 } });
    await c.connect();
    const failed = untilState(c, "failed");
    await s.api("/api/auth/logout", { method: "POST", token });
    await failed;
    expect(c.error).toMatchObject({ code: "SESSION_REVOKED" });
    await expect(c.request("ping")).rejects.toMatchObject({ code: "SESSION_REVOKED" });
  });
});

describe("station client: subscriptions", () => {
  test("a device state change arrives as a typed device.state push; none after unsubscribe", async () => {
    const { device, credentials } = await addDevice(s, admin, "Client lamp", "light");
    const sim = simFor(credentials, "light");
    await sim.start();
    try {
      const c = client(admin);
      await c.connect();
      const pushes: Push[] = [];
      const sub = await c.subscribe("devices", { deviceId: device.id }, (p) => pushes.push(p));
      expect(sub.subscriptionId).toBe("sub-1");
      // A second handle with the same filter on the same socket: the station fans a state out to
      // both in one pass, in subscription order, so once it has a push, `sub` would have had its own.
      const witnessed: Push[] = [];
      await c.subscribe("devices", { deviceId: device.id }, (p) => witnessed.push(p));
      const result = await c.request<{ status: string }>("devices.command", {
        id: device.id,
        action: "turn_on",
        wait: 3000,
      });
      expect(result.status).toBe("ok");
      const state = await nextPush(pushes, (p) =>
        p.event === "device.state" && p.data.state.power === "on" ? p : undefined,
      );
      expect(state).toMatchObject({ channel: "devices", subscriptionId: sub.subscriptionId });
      expect(state.data.deviceId).toBe(device.id);
      await nextPush(witnessed, (p) =>
        p.event === "device.state" && p.data.state.power === "on" ? p : undefined,
      );
      pushes.length = 0;
      await sub.unsubscribe();
      await c.request("devices.command", { id: device.id, action: "turn_off", wait: 3000 });
      await nextPush(witnessed, (p) =>
        p.event === "device.state" && p.data.state.power === "off" ? p : undefined,
      );
      expect(pushes).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  test("server: after unsubscribe the station sends that subscription nothing more", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${admin}`);
    try {
      await sock.next();
      const subscribe = async () =>
        ((await sock.request("subscribe", { channel: "devices" })).data as { subscriptionId: string })
          .subscriptionId;
      const gone = await subscribe();
      const kept = await subscribe();
      expect(await sock.request("unsubscribe", { subscriptionId: gone })).toMatchObject({ type: "result" });
      const { device } = await addDevice(s, admin, "Unsubscribed lamp", "light");
      // `gone` was subscribed first, so a push the station still sent it would come before `kept`'s.
      await sock.waitFor((f) => f.subscriptionId === kept && f.event === "device.added");
      const pushes = sock.frames.filter((f) => (f as { type?: string }).type === "push");
      expect(pushes).toEqual([
        expect.objectContaining({
          subscriptionId: kept,
          data: { device: expect.objectContaining({ id: device.id }) },
        }),
      ]);
      expect(await sock.request("unsubscribe", { subscriptionId: gone })).toMatchObject({
        type: "error",
        code: "NOT_FOUND",
      });
    } finally {
      sock.close();
    }
  });
});

describe("station client: regressions found while writing it", () => {
  // The device is gone before device.removed is fanned out, so the bus event carries its type.
  test("a subscription filtered by type receives device.removed for that type", async () => {
    const c = client(admin);
    await c.connect();
    const pushes: Push[] = [];
    await c.subscribe("devices", { type: "light" }, (p) => pushes.push(p));
    const { device } = await addDevice(s, admin, "Short-lived lamp", "light");
    await nextPush(pushes, (p) => (p.event === "device.added" ? p : undefined));
    expect((await s.api(`/api/devices/${device.id}`, { method: "DELETE", token: admin })).status).toBe(200);
    const removed = await nextPush(pushes, (p) => (p.event === "device.removed" ? p : undefined), 1000);
    expect(removed.data).toEqual({ deviceId: device.id });
  });
});

describe("station client: reconnect", () => {
  test("after a station restart it reconnects on the injected clock and re-subscribes", async () => {
    const dir = makeTempDir();
    let first: TestStation | undefined = await startTestStation({ dataDir: dir.path });
    let second: TestStation | undefined;
    const port = new URL(first.url).port;
    const sims: { stop(): Promise<void> }[] = [];
    try {
      const token = await first.userToken("restart-admin", "admin");
      const { device, credentials } = await addDevice(first, token, "Restart lamp", "light");
      const clock = createManualClock(Date.now());
      const c = createStationClient({
        url: first.wsUrl,
        token,
        clock,
        random: () => 0.5, // jitter at its midpoint: the first retry waits exactly initialMs
        reconnect: { initialMs: 1000, maxMs: 8000, jitter: 0.2 },
      });
      clients.push(c);
      await c.connect();
      const pushes: Push[] = [];
      const system: string[] = [];
      c.onSystem((f) => system.push(f.event));
      const sub = await c.subscribe("devices", undefined, (p) => pushes.push(p));

      const reconnecting = untilState(c, "reconnecting");
      await first.stop();
      first = undefined;
      await reconnecting;
      expect(system).toContain("shutdown");
      await expect(c.request("ping")).rejects.toMatchObject({ code: "DISCONNECTED" });

      second = await startTestStation({ dataDir: dir.path, env: { OPENGENIE_PORT: port } });
      // Nothing happens until the backoff timer fires. A negative has no event to wait for: this
      // real-time window is where a retry loop on real timers, not the injected clock, would show.
      await Bun.sleep(100);
      expect(c.state).toBe("reconnecting");
      const open = untilState(c, "open");
      clock.advance(1000);
      await open;

      const creds = { ...credentials, mqttPort: second.info.mqttPort };
      const sim = simFor(creds, "light");
      sims.push(sim);
      await sim.start();
      const online = await nextPush(pushes, (p) =>
        p.event === "device.status" && p.data.online ? p : undefined,
      );
      expect(online).toMatchObject({ subscriptionId: sub.subscriptionId, data: { deviceId: device.id } });
      expect((await c.request<{ pong: number }>("ping")).pong).toBeNumber();
    } finally {
      for (const sim of sims) await sim.stop();
      await first?.stop();
      await second?.stop();
      dir.remove();
    }
  });
});

describe("station client: provisioning replay", () => {
  const fakeBridge = `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")} --announce-interval-ms 100 --devices 1`;

  async function withCandidate(run: (p: TestStation, token: string) => Promise<void>) {
    const p = await startTestStation({ env: { OPENGENIE_BLE_BRIDGE: fakeBridge } });
    try {
      const token = await p.userToken("pair-admin", "admin");
      const watcher = createStationClient({ url: p.wsUrl, token });
      clients.push(watcher);
      await watcher.connect();
      const seen: Push[] = [];
      await watcher.subscribe("provisioning", undefined, (push) => seen.push(push));
      await nextPush(seen, (push) => (push.event === "provisioning.candidate" ? push : undefined), 10_000);
      await run(p, token);
    } finally {
      await p.stop();
    }
  }

  test("a late subscriber gets the current candidates on its stable handle", async () => {
    await withCandidate(async (p, token) => {
      const late = createStationClient({ url: p.wsUrl, token });
      clients.push(late);
      await late.connect();
      const pushes: Push[] = [];
      const sub = await late.subscribe("provisioning", undefined, (push) => pushes.push(push));
      const replayed = await nextPush(pushes, (push) =>
        push.event === "provisioning.candidate" ? push : undefined,
      );
      expect(replayed.subscriptionId).toBe(sub.subscriptionId);
      expect(replayed.data.name).toMatch(/^OpenGenie-/);
    });
  }, 20_000);

  // Replayed pushes must follow the subscribe result, so a client knows the subscriptionId first.
  test("server: the subscribe result precedes the replayed candidates", async () => {
    await withCandidate(async (p, token) => {
      const sock = await openSocket(`${p.wsUrl}/ws?token=${token}`);
      try {
        await sock.next();
        sock.ws.send(JSON.stringify({ id: "sub", type: "subscribe", payload: { channel: "provisioning" } }));
        const first = await sock.next();
        expect(first).toMatchObject({ id: "sub", type: "result" });
      } finally {
        sock.close();
      }
    });
  }, 20_000);
});
