/**
 * Garbage on `/ws/modules` (fast-check, issue 12): the decoder never throws, and a live hub fed
 * garbage by authenticated and unauthenticated peers keeps running, logs no unexpected failure,
 * and keeps routing between the well-behaved modules (the published 0.8.4 client) as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeModuleFrame, OutgoingEvent } from "../src/modules/index.ts";
import { readMetric } from "./helpers/metrics.ts";
import { joinModule, type ModuleTestClient } from "./helpers/module-client.ts";
import { type JsonSocket, openJsonSocket } from "./helpers/module-json-socket.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const TOKEN = "fuzz-token";
const TYPES = [
  "transport:connection:heartbeat",
  "module:authenticate",
  "module:announce",
  "extension:module:announce",
  "ui:configure",
  "opengenie:device.command",
  "registry:modules:sync",
  "module:configure",
  "device.state",
  "error",
  "fuzz:event",
];

/** Route targets, valid and not, including deep and/or nesting. */
const destination: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  target: fc.oneof(
    { depthSize: "small" },
    fc.string({ maxLength: 40 }),
    fc.constantFrom("*", "plugin:a", "label:k=v", "module:a", "instance:x:y", "peer:", ":", "label:="),
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({
      type: fc.constantFrom("and", "or"),
      all: fc.array(tie("target"), { maxLength: 3 }),
      any: fc.array(tie("target"), { maxLength: 3 }),
    }),
    fc.record({
      type: fc.constantFrom("glob", "ids", "plugin", "label", "module"),
      glob: fc.string(),
      ids: fc.array(fc.string()),
      plugins: fc.array(fc.string()),
      selectors: fc.array(fc.string()),
      modules: fc.array(fc.string()),
      inverted: fc.boolean(),
    }),
  ),
})).target;

// Up to ~44 KB of JSON: deep, but under the 64 KiB frame limit that would close the socket.
const deepExpression = fc.integer({ min: 10, max: 2000 }).map((depth) => {
  let expression: unknown = { type: "glob", glob: "*" };
  for (let i = 0; i < depth; i++) expression = { type: "and", all: [expression] };
  return expression;
});

const event = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 200 })),
    data: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        token: fc.oneof(fc.string(), fc.constant(TOKEN), fc.integer()),
        kind: fc.constantFrom("ping", "pong", "plugin", 7),
        name: fc.oneof(fc.string({ maxLength: 200 }), fc.constant("opengenie")),
        index: fc.oneof(fc.integer(), fc.double(), fc.constant(-1)),
        identity: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({
            plugin: fc.string(),
            instanceId: fc.string(),
            labels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
          }),
          fc.record({ kind: fc.constant("plugin"), id: fc.string(), plugin: fc.record({ id: fc.string() }) }),
        ),
        moduleName: fc.oneof(fc.string(), fc.constantFrom("legit-a", "legit-b", "opengenie")),
        moduleIndex: fc.oneof(fc.integer(), fc.constant(undefined)),
        config: fc.jsonValue({ maxDepth: 3 }),
        deviceId: fc.string(),
        action: fc.string(),
        destinations: fc.oneof(fc.array(destination, { maxLength: 70 }), fc.jsonValue({ maxDepth: 2 })),
      }),
    ),
    route: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        destinations: fc.oneof(
          fc.array(destination, { maxLength: 70 }),
          deepExpression.map((e) => [e]),
        ),
        bypass: fc.boolean(),
      }),
    ),
    metadata: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ event: fc.record({ id: fc.oneof(fc.string(), fc.integer()) }) }),
    ),
  },
  { requiredKeys: [] },
);

/** Superjson wrappers with made-up annotations, as a broken or hostile client might send. */
const superjsonFrame = fc
  .record({
    json: fc.oneof(event, fc.jsonValue({ maxDepth: 3 })),
    meta: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        values: fc.dictionary(
          fc.oneof(
            fc.string(),
            fc.constantFrom("data", "data.token", "type", "__proto__", "data.__proto__.x"),
          ),
          fc.oneof(
            fc.constantFrom("Date", "undefined", "bigint", "set", "map", "regexp", "number", "Error", "URL"),
            fc.tuple(fc.constantFrom("class", "custom", "symbol", "typed-array"), fc.string()),
            fc.jsonValue({ maxDepth: 2 }),
          ),
        ),
        referentialEqualities: fc.jsonValue({ maxDepth: 3 }),
        v: fc.integer(),
      }),
    ),
  })
  .map((f) => JSON.stringify(f));

const frame = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.json({ maxDepth: 4 }),
  event.map((e) => JSON.stringify(e)),
  superjsonFrame,
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`),
  deepExpression.map((e) =>
    JSON.stringify({ json: { type: "fuzz:event", data: {}, route: { destinations: [e] } } }),
  ),
);

describe("the module frame decoder", () => {
  test("never throws, and whatever it accepts can be written back out for either encoding", () => {
    fc.assert(
      fc.property(frame, (text) => {
        const decoded = decodeModuleFrame(text);
        if (!decoded.ok) return ["not-json", "invalid-event"].includes(decoded.reason);
        const out = new OutgoingEvent(decoded.event.type, decoded.value, {
          text,
          encoding: decoded.encoding,
        });
        // A value JSON cannot hold is dropped (undefined), never thrown at the hub.
        out.text("json");
        out.text("superjson");
        return typeof decoded.event.type === "string";
      }),
      { numRuns: 3000 },
    );
  });
});

describe("a live hub fed garbage", () => {
  let s: TestStation;
  let a: ModuleTestClient;
  let b: ModuleTestClient;
  const fuzzers: JsonSocket[] = [];
  beforeAll(async () => {
    s = await startTestStation({ env: { AUTHENTICATION_TOKEN: TOKEN } });
    const url = `${s.wsUrl}/ws/modules`;
    a = await joinModule(url, { name: "legit-a", token: TOKEN });
    b = await joinModule(url, { name: "legit-b", token: TOKEN });
    // Three authenticated and announced fuzzers, three that never authenticate: each stays
    // within the per-peer burst, so every frame below reaches the hub's handling.
    for (let i = 0; i < 6; i++) {
      const socket = await openJsonSocket(url, { acceptSuperjson: true });
      if (i < 3) {
        socket.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
        socket.ws.send(
          JSON.stringify({
            type: "module:announce",
            data: { name: `fuzzer-${i}`, identity: { plugin: "fuzz", instanceId: `f${i}` } },
          }),
        );
        await socket.waitFor((f) => f.type === "module:authenticated");
      }
      fuzzers.push(socket);
    }
  });
  afterAll(async () => {
    a.close();
    b.close();
    for (const f of fuzzers) f.close();
    await s.stop();
  });

  test("never crashes the hub or affects the other peers", async () => {
    const opened = await readMetric(s, "opengenie_module_connections_opened_total");
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(frame, fc.nat(5), async (text, who) => {
        const socket = fuzzers[who]!;
        if (socket.ws.readyState === WebSocket.OPEN) socket.ws.send(text);
        sent++;
      }),
      { numRuns: 1000 },
    );
    expect(sent).toBe(1000);
    // Every fuzzer's frames have been handled once its own heartbeat is answered.
    for (const [i, socket] of fuzzers.entries()) {
      socket.ws.send(
        JSON.stringify({
          type: "transport:connection:heartbeat",
          data: { kind: "ping" },
          metadata: { event: { id: `done-${i}` } },
        }),
      );
      await socket.waitFor(
        (f) =>
          f.type === "transport:connection:heartbeat" &&
          (f.metadata as { event: { parentId?: string } }).event.parentId === `done-${i}`,
      );
    }

    // The well-behaved modules are on the same sockets and still talk to each other.
    a.send({ type: "legit:hello", data: { text: "still here" }, route: { destinations: ["legit-b"] } });
    expect((await b.waitFor((e) => e.type === "legit:hello")).data).toEqual({ text: "still here" });
    await a.roundTrip();
    expect(await readMetric(s, "opengenie_module_connections_opened_total")).toBe(opened);
    expect(a.registryNames()).toContain("legit-b");
    // The station answers, and nothing slipped past the parser into an unexpected failure.
    expect((await s.api("/api/health")).status).toBe(200);
    expect(s.logger.lines.filter((l) => l.includes("handling a module frame failed"))).toEqual([]);
    expect(
      await readMetric(s, "opengenie_module_frames_dropped_total", { reason: "invalid" }),
    ).toBeGreaterThan(0);
  }, 60_000);
});
