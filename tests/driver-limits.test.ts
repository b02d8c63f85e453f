import { afterAll, beforeAll, expect, test } from "bun:test";
import { createManualClock } from "../src/core/index.ts";
import { DEFAULT_DRIVER_LIMITS, MAX_DEVICES_PER_DRIVER } from "../src/drivers/index.ts";
import { eventually, getDevice } from "./helpers/devices.ts";
import { connectDriver, discovered, driverToken, registerDriver, stationIdOf } from "./helpers/drivers.ts";
import { readMetric } from "./helpers/metrics.ts";
import { OPCODE, rawWebSocket } from "./helpers/raw-ws.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { upgradeStatus } from "./helpers/ws-client.ts";

// What one driver can cost the station is bounded (docs/security.md): a message budget, and
// sessions that stop answering or never register are closed. Time is the station's injected
// clock, so nothing here sleeps.
const clock = createManualClock(Date.now());
let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation({ clock });
  admin = await s.userToken("limits-admin", "admin");
});
afterAll(() => s.stop());

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "past the burst (then the rate): one RATE_LIMITED error, the rest dropped until the budget refills",
  async () => {
    const d = await connectDriver(s, { token: await driverToken(s, "FLOODER") });
    await registerDriver(d, "FLOODER", "flood-1");
    const unknown = { event: "NOPE", device_id: "x", data: {} };
    // The registration took one message of the burst; the clock stands still meanwhile.
    for (let left = DEFAULT_DRIVER_LIMITS.rateCapacity - 1; left > 0; left -= 50) {
      const batch = Math.min(50, left);
      const seen = d.frames.length;
      for (let i = 0; i < batch; i++) d.send(unknown);
      await d.waitFor(() => d.frames.length === seen + batch);
    }
    expect(d.frames.length).toBe(DEFAULT_DRIVER_LIMITS.rateCapacity + 1);
    expect(d.frames.slice(2).every((f) => (f as { error?: string }).error === "Unknown event.")).toBe(true);
    d.send(unknown);
    const limited = await d.next();
    expect(limited).toMatchObject({
      ok: false,
      code: "DRIVER_WS_RATE_LIMITED",
      details: [expect.any(String), expect.stringMatching(/^retryAfterMs: \d+$/)],
      protocolVersion: 1,
    });
    const framesBefore = d.frames.length;
    for (let i = 0; i < 3; i++) d.send(unknown);
    // Dropped without an answer, and counted.
    await eventually(
      () => readMetric(s, "opengenie_driver_messages_rejected_total", { reason: "rate" }),
      (n) => n === 4,
    );
    expect(d.frames.length).toBe(framesBefore);
    clock.advance(1000);
    d.send(unknown);
    expect(await d.next()).toMatchObject({ error: "Unknown event." });
    expect(d.ws.readyState).toBe(WebSocket.OPEN);
    d.close();
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a driver that never answers pings is closed with 4000 and its devices go offline; one that answers stays",
  async () => {
    const token = await driverToken(s, "SILENT");
    const raw = await rawWebSocket(s.info.httpPort, `/driver?token=${token}`);
    await raw.waitFor((f) => f.opcode === OPCODE.text); // CONNECTED
    raw.sendText(
      JSON.stringify({
        method: "driver.register",
        params: { driverKey: "SILENT", instanceId: "s-1", protocolVersion: 1 },
      }),
    );
    await raw.waitFor((f) => f.opcode === OPCODE.text && f.payload.toString().includes("REGISTERED"));
    raw.sendText(JSON.stringify(discovered("quiet")));
    const id = await stationIdOf(s, admin, "SILENT", "quiet");
    await eventually(
      () => getDevice(s, admin, id),
      (dev) => dev.online,
    );

    const good = await connectDriver(s, { token: await driverToken(s, "CHATTY") });
    await registerDriver(good, "CHATTY", "c-1");

    clock.advance(30_000);
    await raw.waitFor((f) => f.opcode === OPCODE.ping);
    // The good client's pong precedes its next message on the stream: two answered messages
    // later, the station has seen it.
    for (let i = 0; i < 2; i++) {
      good.send({ event: "NOPE", device_id: "x", data: {} });
      await good.next();
    }
    clock.advance(10_000);
    const close = await raw.waitFor((f) => f.opcode === OPCODE.close);
    expect(raw.closeCode(close)).toBe(4000);
    raw.destroy();
    await eventually(
      () => getDevice(s, admin, id),
      (dev) => !dev.online,
    );
    good.send({ event: "NOPE", device_id: "x", data: {} });
    expect(await good.next()).toMatchObject({ error: "Unknown event." });
    good.close();
  },
);

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "a connection that does not register within 10 s is closed with 4000",
  async () => {
    const d = await connectDriver(s, { token: await driverToken(s, "SLOWPOKE") });
    clock.advance(9_999);
    d.send("not json");
    expect(await d.next()).toMatchObject({ error: "Invalid JSON." });
    clock.advance(1);
    expect((await d.closed).code).toBe(4000);
  },
);

test("at most 64 open sockets per driver token (429 before the upgrade); another token is not affected", async () => {
  const token = await driverToken(s, "MANY_SOCKETS");
  const sockets = await Promise.all(Array.from({ length: 64 }, () => connectDriver(s, { token })));
  expect(await upgradeStatus(`${s.url}/driver?token=${token}`)).toBe(429);
  const other = await connectDriver(s, { token: await driverToken(s, "FEW_SOCKETS") });
  other.close();
  sockets[0]!.close();
  await sockets[0]!.closed;
  await eventually(
    async () => {
      try {
        const again = await connectDriver(s, { token });
        again.close();
        return true;
      } catch {
        return false;
      }
    },
    (ok) => ok,
  );
  for (const d of sockets.slice(1)) d.close();
});

test("a driver with 300 devices announcing them all at once (900 messages) gets every one in, none refused", async () => {
  const d = await connectDriver(s, { token: await driverToken(s, "BIG_BRIDGE") });
  await registerDriver(d, "BIG_BRIDGE", "big-1");
  for (let i = 0; i < 300; i++) {
    d.send(discovered(`lamp-${i}`, `Lamp ${i}`));
    d.send({ event: "STATE_UPDATE", device_id: `lamp-${i}`, data: { power: "on" } });
    d.send({ event: "METRIC_UPDATE", device_id: `lamp-${i}`, data: { metrics: [{ key: "w", value: i }] } });
  }
  await eventually(
    async () => {
      const { drivers } = (await (await s.api("/api/drivers", { token: admin })).json()) as {
        drivers: { driverKey: string; devices: unknown[] }[];
      };
      return drivers.find((x) => x.driverKey === "BIG_BRIDGE")?.devices.length ?? 0;
    },
    (n) => n === 300,
    15_000,
  );
  const last = await stationIdOf(s, admin, "BIG_BRIDGE", "lamp-299");
  await eventually(
    () => getDevice(s, admin, last),
    (dev) => dev.state.power === "on" && dev.metrics?.[0]?.value === 299,
  );
  expect(d.frames.filter((f) => (f as { ok?: boolean }).ok === false)).toEqual([]);
  d.close();
});

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "at most 1000 devices per driverKey: the next DEVICE_DISCOVERED is refused and creates nothing",
  async () => {
    const d = await connectDriver(s, { token: await driverToken(s, "HOARDER") });
    await registerDriver(d, "HOARDER", "hoard-1");
    // In halves, the budget refilled in between (by less than the 10 s a pong may take, so the
    // heartbeat never times this socket out within one step).
    for (const [from, to] of [
      [0, MAX_DEVICES_PER_DRIVER / 2],
      [MAX_DEVICES_PER_DRIVER / 2, MAX_DEVICES_PER_DRIVER],
    ] as const) {
      clock.advance(5_000);
      for (let i = from; i < to; i++) d.send(discovered(`d-${i}`, `D ${i}`));
      await stationIdOf(s, admin, "HOARDER", `d-${to - 1}`);
    }
    clock.advance(1000);
    d.send(discovered("one-too-many"));
    expect(await d.next()).toMatchObject({ ok: false, error: "Too many devices." });
    // Announcing a known one again is still fine.
    d.send(discovered("d-0", "D zero"));
    const { drivers } = (await (await s.api("/api/drivers", { token: admin })).json()) as {
      drivers: { driverKey: string; devices: { name: string }[] }[];
    };
    const mine = drivers.find((x) => x.driverKey === "HOARDER")!.devices;
    expect(mine).toHaveLength(MAX_DEVICES_PER_DRIVER);
    await eventually(
      async () =>
        (await (
          await s.api(`/api/devices/${await stationIdOf(s, admin, "HOARDER", "d-0")}`, { token: admin })
        ).json()) as { device: { name: string } },
      (b) => b.device.name === "D zero",
    );
    expect(d.frames.filter((f) => (f as { ok?: boolean }).ok === false)).toHaveLength(1);
    d.close();
  },
);
