import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/core/index.ts";
import { addDevice } from "./helpers/devices.ts";
import { OPCODE, rawWebSocket } from "./helpers/raw-ws.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";
import { openSocket } from "./helpers/ws-client.ts";

describe("/ws limits", () => {
  let s: TestStation;
  let token: string;
  // The rate limit refills with injected time, so no test here waits for the bucket in real time.
  const clock = createManualClock(Date.now());
  beforeAll(async () => {
    s = await startTestStation({ clock });
    token = await s.userToken("lim", "member");
  });
  afterAll(() => s.stop());

  test("a frame over 64 KiB closes the socket with 1009", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    sock.ws.send(JSON.stringify({ id: "big", type: "ping", payload: "x".repeat(70 * 1024) }));
    expect((await sock.closed).code).toBe(1009);
  });

  bunOnly(CLOCK_ONLY_IN_PROCESS)(
    "a burst past the rate limit gets RATE_LIMITED with retryAfterMs, and the socket stays open",
    async () => {
      const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
      await sock.next();
      for (let i = 0; i < 100; i++) sock.ws.send(JSON.stringify({ id: `b${i}`, type: "ping" }));
      const limited = await sock.waitFor((f) => f.code === "RATE_LIMITED");
      expect(limited.type).toBe("error");
      const { retryAfterMs } = limited.details as { retryAfterMs: number };
      expect(retryAfterMs).toBeGreaterThan(0);
      // Every frame of the burst has been answered (the last one limited too) before time moves on.
      expect(await sock.waitFor((f) => f.id === "b99")).toMatchObject({ code: "RATE_LIMITED" });
      clock.advance(retryAfterMs);
      expect((await sock.request("ping")).type).toBe("result");
      sock.close();
    },
  );

  test("the subscribe filter limits pushes to one device", async () => {
    const admin = await s.userToken("lim-admin", "admin");
    const filtered = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    const unfiltered = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await filtered.next();
    await unfiltered.next();
    const a = await addDevice(s, admin, "A", "light");
    const b = await addDevice(s, admin, "B", "switch");
    const res = await filtered.request("subscribe", {
      channel: "devices",
      filter: { deviceId: b.device.id },
    });
    expect(res.type).toBe("result");
    expect((await unfiltered.request("subscribe", { channel: "devices" })).type).toBe("result");
    const bad = await filtered.request("subscribe", { channel: "nope" });
    expect(bad).toMatchObject({ type: "error", code: "VALIDATION_ERROR" });
    // Removing A is pushed to every `devices` subscriber but the one filtered to B. It is fanned
    // out before B's removal, so a filter that let it through would show it first.
    await s.api(`/api/devices/${a.device.id}`, { method: "DELETE", token: admin });
    await s.api(`/api/devices/${b.device.id}`, { method: "DELETE", token: admin });
    type Push = { type?: string; event?: string; data?: { deviceId?: string } };
    const pushesUntilBRemoved = async (sock: typeof filtered) => {
      await sock.waitFor(
        (f) => (f as Push).event === "device.removed" && (f as Push).data?.deviceId === b.device.id,
      );
      return (sock.frames as Push[])
        .filter((f) => f.type === "push")
        .map((f) => `${f.event}:${f.data?.deviceId}`);
    };
    expect(await pushesUntilBRemoved(unfiltered)).toEqual([
      `device.removed:${a.device.id}`,
      `device.removed:${b.device.id}`,
    ]);
    expect(await pushesUntilBRemoved(filtered)).toEqual([`device.removed:${b.device.id}`]);
    filtered.close();
    unfiltered.close();
  });
});

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "heartbeat: a client that never answers pings is closed with 4000 (injected clock)",
  async () => {
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
        // The ping went out before the first request's reply, so the client pongs before it reads
        // that reply; the second request follows the pong on the same stream. Once it is answered
        // the station has seen the pong, and the 10 s check may run.
        await good.request("ping");
        await good.request("ping");
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
  },
);

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

test("a slow reader gets state pushes coalesced: far fewer frames than published, ending on the latest state of every device", async () => {
  const s = await startTestStation();
  try {
    const admin = await s.userToken("slow-admin", "admin");
    const token = await s.userToken("slow", "guest");
    const fastToken = await s.userToken("fast", "guest");
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
    type StatePush = { event?: string; data?: { deviceId: string; state: { seq: number } } };

    // A reader that keeps up sees every push the station fans out. Waiting for it after each
    // round makes every round a fan-out of its own, so what thins the slow reader's frames below
    // is its connection's coalescing, not the batching of states read in one I/O turn. It keeps
    // only the latest seq, not the 60 MB of frames.
    const fast = new WebSocket(`${s.wsUrl}/ws?token=${fastToken}`, ["opengenie.v1"]);
    let fastLatestSeq = 0;
    let fastSubscribed = false;
    fast.addEventListener("message", (e) => {
      const msg = JSON.parse(String(e.data)) as StatePush & { id?: string };
      if (msg.id === "fast") fastSubscribed = true;
      if (msg.event === "device.state" && msg.data)
        fastLatestSeq = Math.max(fastLatestSeq, msg.data.state.seq);
    });
    await new Promise((resolve) => fast.addEventListener("open", resolve, { once: true }));
    fast.send(JSON.stringify({ id: "fast", type: "subscribe", payload: { channel: "devices" } }));
    await waitFor(() => fastSubscribed, 5000, "the fast reader's subscription");

    const reader = await rawWebSocket(s.info.httpPort, `/ws?token=${token}`);
    await reader.waitFor((f) => f.opcode === OPCODE.text);
    reader.sendText(JSON.stringify({ id: "s", type: "subscribe", payload: { channel: "devices" } }));
    await reader.waitFor((f) => f.payload.toString().includes('"result"'));
    reader.pause();

    // About 60 MB in all: far more than the kernel's socket buffers (a few MB on loopback) and the
    // station's 256 KiB send-buffer limit hold, so most of it has to be coalesced away.
    const padding = "p".repeat(30_000);
    const rounds = 400;
    let seq = 0;
    for (let round = 0; round < rounds; round++) {
      for (const dev of iot) {
        dev.ws.send(JSON.stringify({ topic: "state", payload: { state: { seq: ++seq, padding } } }));
      }
      const published = seq;
      await waitFor(() => fastLatestSeq === published, 10_000, `the fast reader to see seq ${published}`);
    }
    const published = seq;
    const latest = new Map(devices.map((d, i) => [d.device.id, published - iot.length + 1 + i]));
    // Memory stays bounded: while it does not read, the station has handed the slow socket only
    // what its buffers hold, keeps one latest state per device for the rest, and drops none.
    const connections = (await (await s.api("/api/connections", { token: admin })).json()) as {
      apps: { principal?: string; messagesOut: number; dropped: number }[];
    };
    const slowConnection = connections.apps.find((c) => c.principal === "slow")!;
    expect(slowConnection.dropped).toBe(0);
    expect(slowConnection.messagesOut).toBeLessThan(published / 4);

    reader.resume();
    const seen = new Map<string, number[]>();
    let delivered = 0;
    const take = () => {
      for (const f of reader.frames.splice(0)) {
        if (f.opcode !== OPCODE.text) continue;
        const msg = JSON.parse(f.payload.toString()) as StatePush;
        if (msg.event !== "device.state" || !msg.data) continue;
        delivered++;
        seen.set(msg.data.deviceId, [...(seen.get(msg.data.deviceId) ?? []), msg.data.state.seq]);
      }
      return [...latest].every(([id, last]) => seen.get(id)?.at(-1) === last);
    };
    await waitFor(take, 15_000, "the latest state of every device at the slow reader");
    // Each device's pushes arrive in order and end on its latest state...
    for (const [id, last] of latest) {
      const seqs = seen.get(id)!;
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(seqs.at(-1)).toBe(last);
    }
    // ...and far fewer of them than were published: the rest were replaced while waiting.
    expect(published).toBe(2000);
    expect(delivered).toBeLessThan(published / 4);
    fast.close();
    for (const dev of iot) dev.close();
    reader.destroy();
  } finally {
    await s.stop();
  }
}, 60_000);
