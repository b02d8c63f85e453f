/**
 * Property-based tests of the /ws frame boundary (fast-check): the parser never throws, and a
 * live station answers every frame exactly once, whatever arrives, without closing the socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createWsSimulatedDevice, type SimulatedDevice } from "../firmware-sim/index.ts";
import { parseRequestFrame } from "../src/ws/index.ts";
import { addDevice } from "./helpers/devices.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const OPS = [
  "ping",
  "auth.whoami",
  "subscribe",
  "unsubscribe",
  "devices.list",
  "devices.get",
  "devices.command",
  "events.query",
] as const;

describe("parseRequestFrame", () => {
  const isParseResult = (r: ReturnType<typeof parseRequestFrame>) =>
    r.ok ? typeof r.frame.type === "string" : r.error.code === "PARSE_ERROR";

  test("never throws on arbitrary text: ok, or a PARSE_ERROR", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) =>
        isParseResult(parseRequestFrame(text)),
      ),
      { numRuns: 2000 },
    );
  });

  test("never throws on arbitrary JSON values: ok, or a PARSE_ERROR", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) =>
        isParseResult(parseRequestFrame(JSON.stringify(value) ?? "null")),
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.json(), (text) => isParseResult(parseRequestFrame(text))),
      { numRuns: 1000 },
    );
  });

  test("a well-formed frame parses to itself", () => {
    const frame = fc.record(
      {
        id: fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.integer()),
        type: fc.oneof(fc.constantFrom(...OPS), fc.string({ minLength: 1, maxLength: 64 })),
        payload: fc.jsonValue(),
      },
      { requiredKeys: ["id", "type"] },
    );
    fc.assert(
      fc.property(frame, (f) => {
        const text = JSON.stringify(f);
        const parsed = parseRequestFrame(text);
        expect(parsed).toEqual({ ok: true, frame: JSON.parse(text) });
      }),
      { numRuns: 1000 },
    );
  });

  test("a malformed frame echoes a string or finite-number id so the client can match the error", () => {
    const badFrame = fc.record({
      id: fc.oneof(fc.string({ maxLength: 200 }), fc.double(), fc.constant(null), fc.boolean()),
      type: fc.oneof(fc.constant(""), fc.integer(), fc.string({ minLength: 65, maxLength: 80 })),
    });
    fc.assert(
      fc.property(badFrame, (f) => {
        const parsed = parseRequestFrame(JSON.stringify(f));
        if (parsed.ok) return false;
        const echoable = typeof f.id === "string" || (typeof f.id === "number" && Number.isFinite(f.id));
        return (
          parsed.error.code === "PARSE_ERROR" &&
          (echoable ? Object.is(parsed.id, JSON.parse(JSON.stringify(f.id))) : parsed.id === null)
        );
      }),
      { numRuns: 1000 },
    );
  });
});

/** One frame to send: text, or bytes for a binary frame. */
type Sent = { data: string | Uint8Array<ArrayBuffer> };

// Action names that are Object.prototype members once reached an inherited member and a 500
// (regression test below); the fuzzer keeps trying them.
const anyAction = fc.oneof(
  fc.string(),
  fc.constantFrom("toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"),
);

function frameArbitrary(deviceIds: string[]): fc.Arbitrary<Sent> {
  const text = (t: fc.Arbitrary<string>) => t.map((data): Sent => ({ data }));
  const payloadFor = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({
      channel: fc.constantFrom("devices", "events", "provisioning", "nope"),
      filter: fc.jsonValue(),
    }),
    fc.record(
      {
        id: fc.oneof(fc.constantFrom(...deviceIds, "missing"), fc.string()),
        action: fc.oneof(fc.constantFrom("turn_on", "set_brightness", "reboot"), anyAction),
        params: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
        wait: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double()),
      },
      { requiredKeys: [] },
    ),
    fc.record({
      deviceId: fc.string(),
      limit: fc.integer(),
      before: fc.oneof(fc.integer(), fc.bigInt().map(String)),
    }),
  );
  const request = fc.record(
    {
      id: fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 140 }), fc.integer(), fc.double()),
      type: fc.oneof(fc.constantFrom(...OPS), fc.string({ unit: "binary", maxLength: 70 })),
      payload: payloadFor,
    },
    { requiredKeys: [] },
  );
  // Commands that pass the station's checks often enough to reach the live device and back.
  const command = fc
    .record(
      {
        id: fc.string({ minLength: 1, maxLength: 20 }),
        type: fc.constant("devices.command"),
        payload: fc.record(
          {
            id: fc.constantFrom(...deviceIds),
            action: fc.oneof(
              fc.constantFrom("turn_on", "turn_off", "toggle", "set_brightness", "reboot"),
              anyAction,
            ),
            params: fc.oneof(
              fc.record({
                brightness: fc.oneof(fc.integer({ min: -10, max: 110 }), fc.double(), fc.string()),
              }),
              fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
            ),
            wait: fc.integer({ min: 1, max: 1000 }),
          },
          { requiredKeys: ["id", "action"] },
        ),
      },
      { requiredKeys: ["id", "type", "payload"] },
    )
    .map((r) => JSON.stringify(r));
  const bigNumber = fc
    .tuple(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.constantFrom(...OPS))
    .map(([n, type]) => `{"id":${n},"type":"${type}","payload":{"limit":${n},"id":"${n}"}}`);
  const nested = fc
    .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom("[", '{"a":'))
    .map(([levels, open]) => {
      const depth = Math.min(levels, open === "[" ? 20_000 : 10_000); // stays under 64 KiB
      const close = open === "[" ? "]" : "}";
      return `{"id":"deep-${depth}","type":"ping","payload":${open.repeat(depth)}1${close.repeat(depth)}}`;
    });
  // Up to exactly 64 KiB of UTF-8, the largest frame the station accepts (one byte more: 1009).
  const large = fc
    .tuple(fc.integer({ min: 1_000, max: 64 * 1024 }), fc.constantFrom("x", "é", "😀"))
    .map(([bytes, ch]) => {
      const id = `big-${bytes}`;
      const overhead = JSON.stringify({ id, type: "ping", payload: "" }).length;
      const n = Math.floor((bytes - overhead) / new TextEncoder().encode(ch).length);
      return JSON.stringify({ id, type: "ping", payload: ch.repeat(n) });
    });
  return fc.oneof(
    { arbitrary: text(fc.string({ unit: "binary", maxLength: 200 })), weight: 2 },
    { arbitrary: text(fc.json({ maxDepth: 4 })), weight: 2 },
    { arbitrary: text(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null")), weight: 1 },
    { arbitrary: text(request.map((r) => JSON.stringify(r))), weight: 6 },
    { arbitrary: text(command), weight: 2 },
    { arbitrary: text(bigNumber), weight: 1 },
    { arbitrary: text(nested), weight: 1 },
    { arbitrary: text(large), weight: 1 },
    {
      arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): Sent => ({ data: new Uint8Array(bytes) })),
      weight: 1,
    },
  );
}

/** The id the station should echo: a string or a finite number, else null (frames.ts). */
function expectedReplyId(sent: Sent): string {
  const text = typeof sent.data === "string" ? sent.data : new TextDecoder().decode(sent.data);
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id;
    return JSON.stringify(
      typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null,
    );
  } catch {
    return "null";
  }
}

describe("a live /ws under fuzzing", () => {
  let s: TestStation;
  let token: string;
  let deviceIds: string[];
  let lamp: SimulatedDevice;
  beforeAll(async () => {
    s = await startTestStation();
    const admin = await s.userToken("fuzz-admin", "admin");
    token = await s.userToken("fuzz-member", "member");
    const { device, credentials } = await addDevice(s, admin, "Fuzz lamp", "light");
    deviceIds = [device.id];
    // A live device, so fuzzed devices.command frames reach real firmware and come back.
    lamp = createWsSimulatedDevice({
      url: s.wsUrl,
      deviceId: device.id,
      token: credentials.mqttPassword,
      type: "light",
      reconnectPeriodMs: 50,
    });
    await lamp.start();
  });
  afterAll(async () => {
    await lamp.stop();
    await s.stop();
  });

  async function open() {
    const ws = new WebSocket(`${s.wsUrl}/ws`, ["opengenie.v1", `opengenie.bearer.${token}`]);
    const replies: { id: string; code?: string }[] = [];
    const closes: number[] = [];
    let waiter: (() => void) | undefined;
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { id?: unknown; type: string; code?: string };
      if (frame.type === "result" || frame.type === "error")
        replies.push({ id: JSON.stringify(frame.id), code: frame.code });
      waiter?.();
    });
    ws.addEventListener("close", (event) => closes.push(event.code));
    await new Promise((resolve, reject) => {
      ws.addEventListener("message", resolve, { once: true }); // the welcome
      ws.addEventListener("error", reject, { once: true });
    });
    const until = async (count: number, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (replies.length < count && Date.now() < deadline && closes.length === 0) {
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 50);
        });
      }
    };
    return { ws, replies, closes, until };
  }

  test("300 arbitrary frames: every one answered exactly once, no close, no internal error", async () => {
    const counted = (ids: string[]) => {
      const m = new Map<string, number>();
      for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
      return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    };
    // Five sockets of 60 frames: the rate limit (a burst of 60, then 30/s) is per connection,
    // so the frames reach the operations instead of mostly RATE_LIMITED; that is a reply too.
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArbitrary(deviceIds), { minLength: 60, maxLength: 60 }),
        async (frames) => {
          const sock = await open();
          try {
            for (const f of frames) sock.ws.send(f.data);
            await sock.until(frames.length);
            expect(sock.closes).toEqual([]);
            expect(counted(sock.replies.map((r) => r.id))).toEqual(counted(frames.map(expectedReplyId)));
            expect(sock.replies.filter((r) => r.code === "INTERNAL_ERROR")).toEqual([]);
            // The 60 frames used the whole burst (unparseable ones count too); one token refills in ~34 ms.
            await Bun.sleep(100);
            sock.ws.send(JSON.stringify({ id: "after", type: "ping" }));
            await sock.until(frames.length + 1);
            expect(sock.replies.at(-1)).toEqual({ id: '"after"', code: undefined });
          } finally {
            sock.ws.close();
          }
        },
      ),
      { numRuns: 5 },
    );
    const health = await s.api("/api/health");
    expect(health.status).toBe(200);
    expect(s.logger.lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }, 20_000);

  test("a burst past the rate limit is answered with RATE_LIMITED replies, not a close", async () => {
    const sock = await open();
    for (let i = 0; i < 150; i++) sock.ws.send(JSON.stringify({ id: i, type: OPS[i % OPS.length] }));
    await sock.until(150);
    expect(sock.closes).toEqual([]);
    expect(sock.replies.length).toBe(150);
    expect(sock.replies.filter((r) => r.code === "RATE_LIMITED").length).toBeGreaterThan(50);
    sock.ws.close();
  });

  // Found by this fuzzer: validateCommand once looked actions up with `commands[action]`, so
  // "toString" or "__proto__" reached Object.prototype and the station answered 500.
  test("an action named like an Object.prototype member is a VALIDATION_ERROR", async () => {
    const sock = await open();
    const names = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];
    for (const action of names) {
      sock.ws.send(
        JSON.stringify({ id: action, type: "devices.command", payload: { id: deviceIds[0], action } }),
      );
    }
    await sock.until(names.length);
    sock.ws.close();
    expect(sock.replies.map((r) => r.code)).toEqual(names.map(() => "VALIDATION_ERROR"));
  });
});
