import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/core/index.ts";
import { addDevice, eventually } from "./helpers/devices.ts";
import { OPCODE, rawWebSocket } from "./helpers/raw-ws.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

describe("/ws limits", () => {
  let s: TestStation;
  let token: string;
  beforeAll(async () => {
    s = await startTestStation();
    token = await s.userToken("lim", "member");
  });
  afterAll(() => s.stop());

  test("a frame over 64 KiB closes the socket with 1009", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    sock.ws.send(JSON.stringify({ id: "big", type: "ping", payload: "x".repeat(70 * 1024) }));
    expect((await sock.closed).code).toBe(1009);
  });

  test("a burst past the rate limit gets RATE_LIMITED with retryAfterMs, and the socket stays open", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    for (let i = 0; i < 100; i++) sock.ws.send(JSON.stringify({ id: `b${i}`, type: "ping" }));
    const limited = await sock.waitFor((f) => f.code === "RATE_LIMITED");
    expect(limited.type).toBe("error");
    expect((limited.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    await Bun.sleep(1100);
    expect((await sock.request("ping")).type).toBe("result");
    sock.close();
  });

  test("the subscribe filter limits pushes to one device", async () => {
    const admin = await s.userToken("lim-admin", "admin");
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    const a = await addDevice(s, admin, "A", "light");
    const b = await addDevice(s, admin, "B", "switch");
    const res = await sock.request("subscribe", { channel: "devices", filter: { deviceId: b.device.id } });
    expect(res.type).toBe("result");
    const bad = await sock.request("subscribe", { channel: "nope" });
    expect(bad).toMatchObject({ type: "error", code: "VALIDATION_ERROR" });
    await s.api(`/api/devices/${a.device.id}`, {
      method: "PATCH",
      token: admin,
      body: JSON.stringify({ name: "A2" }),
    });
    await s.api(`/api/devices/${b.device.id}`, { method: "DELETE", token: admin });
    const removed = await sock.waitFor((f) => f.event === "device.removed");
    expect(removed.data).toEqual({ deviceId: b.device.id });
    expect(sock.frames.filter((f) => (f as { type?: string }).type === "push")).toHaveLength(1);
    sock.close();
  });
});

test("heartbeat: a client that never answers pings is closed with 4000 (injected clock)", async () => {
  const clock = createManualClock(Date.now());
  const s = await startTestStation({ clock });
  try {
    const token = await s.userToken("hb", "guest");
    const raw = await rawWebSocket(s.info.httpPort, `/ws?token=${token}`);
    await raw.waitFor((f) => f.opcode === OPCODE.text);
    clock.advance(30_000);
    await raw.waitFor((f) => f.opcode === OPCODE.ping);
    clock.advance(10_000);
    const close = await raw.waitFor((f) => f.opcode === OPCODE.close);
    expect(raw.closeCode(close)).toBe(4000);
    raw.destroy();

    // A client that answers (the platform WebSocket does) survives many rounds.
    const good = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await good.next();
    // Pings go out every 30 s (at +60 s, +90 s, … from start); each pong is checked 10 s later.
    for (let i = 0; i < 3; i++) {
      clock.advance(20_000);
      await Bun.sleep(50);
      clock.advance(10_000);
    }
    const outcome = await Promise.race([
      good.request("ping").then((f) => f.type),
      good.closed.then((c) => `closed ${c.code}`),
    ]);
    expect(outcome).toBe("result");
    good.close();
  } finally {
    await s.stop();
  }
});

test("shutdown: apps get the notice with gracePeriodMs, then close 1001", async () => {
  const s = await startTestStation();
  const token = await s.userToken("bye", "guest");
  const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
  await sock.next();
  const stopped = s.stop();
  const notice = await sock.waitFor((f) => f.type === "system");
  expect(notice).toMatchObject({ type: "system", event: "shutdown" });
  expect(typeof notice.gracePeriodMs).toBe("number");
  expect((await sock.closed).code).toBe(1001);
  await stopped;
});

test("a slow reader: memory stays bounded and, reading again, it holds the latest state of every device", async () => {
  const s = await startTestStation();
  try {
    const admin = await s.userToken("slow-admin", "admin");
    const token = await s.userToken("slow", "guest");
    const devices = await Promise.all([0, 1, 2, 3, 4].map((i) => addDevice(s, admin, `d${i}`, "sensor")));
    const iot = await Promise.all(
      devices.map((d) =>
        openSocket(`${s.wsUrl}/ws/iot?deviceId=${d.device.id}&token=${d.credentials.mqttPassword}`),
      ),
    );
    for (const dev of iot) {
      dev.ws.send(JSON.stringify({ topic: "handshake", payload: { type: "sensor", firmwareVersion: "1" } }));
      await dev.next();
    }
    const reader = await rawWebSocket(s.info.httpPort, `/ws?token=${token}`);
    await reader.waitFor((f) => f.opcode === OPCODE.text);
    reader.sendText(JSON.stringify({ id: "s", type: "subscribe", payload: { channel: "devices" } }));
    await reader.waitFor((f) => f.payload.toString().includes('"result"'));
    reader.pause();

    const rssBefore = process.memoryUsage().rss;
    const padding = "p".repeat(400);
    const updates = 10_000;
    for (let i = 1; i <= updates; i++) {
      const dev = iot[i % iot.length]!;
      dev.ws.send(JSON.stringify({ topic: "state", payload: { state: { seq: i, padding } } }));
      if (i % 500 === 0) await Bun.sleep(5);
    }
    const last = new Map(devices.map((d, idx) => [d.device.id, updates - ((updates - idx) % iot.length)]));
    await eventually(
      async () =>
        (await (await s.api("/api/devices", { token: admin })).json()) as {
          devices: { id: string; state: { seq?: number } }[];
        },
      (body) => body.devices.every((d) => d.state.seq === last.get(d.id)),
      15_000,
    );
    const grown = process.memoryUsage().rss - rssBefore;
    // 10,000 pushes of ~0.5 KiB queued unboundedly would be > 5 MB per copy; coalescing keeps it flat.
    expect(grown).toBeLessThan(64 * 1024 * 1024);

    reader.resume();
    const seen = new Map<string, number>();
    await eventually(
      async () => {
        for (const f of reader.frames.splice(0)) {
          if (f.opcode !== OPCODE.text) continue;
          const msg = JSON.parse(f.payload.toString()) as {
            event?: string;
            data?: { deviceId: string; state: { seq: number } };
          };
          if (msg.event === "device.state" && msg.data) seen.set(msg.data.deviceId, msg.data.state.seq);
        }
        return seen;
      },
      (m) => [...last].every(([id, seq]) => m.get(id) === seq),
      15_000,
    );
    for (const dev of iot) dev.close();
    reader.destroy();
  } finally {
    await s.stop();
  }
}, 60_000);
