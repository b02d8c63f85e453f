/**
 * Property-based tests of the /driver boundary (fast-check): the parser never throws, and a live
 * station answers every malformed frame with exactly one error frame, keeps the socket open,
 * and changes nothing it stores.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createManualClock } from "../src/core/index.ts";
import { DEFAULT_DRIVER_LIMITS, parseDriverMessage } from "../src/drivers/index.ts";
import { driverErrorFrameSchema } from "../src/protocol/index.ts";
import { eventually, getDevice } from "./helpers/devices.ts";
import {
  connectDriver,
  type DriverSocket,
  discovered,
  driverToken,
  registerDriver,
  stationIdOf,
} from "./helpers/drivers.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const EVENTS = ["DEVICE_DISCOVERED", "DEVICE_UPDATED", "STATE_UPDATE", "METRIC_UPDATE", "ACTION_RESULT"];

/** Valid frames of every kind, to be broken one field at a time. */
const templates: Record<string, unknown>[] = [
  { method: "driver.register", params: { driverKey: "FUZZ", instanceId: "fuzz-1", protocolVersion: 1 } },
  discovered("fuzzed"),
  { event: "DEVICE_UPDATED", device_id: "fuzzed", data: { name: "Renamed" } },
  { event: "STATE_UPDATE", device_id: "fuzzed", data: { current_celsius: 21 } },
  { event: "METRIC_UPDATE", device_id: "fuzzed", data: { metrics: [{ key: "t", value: 1, unit: "C" }] } },
  { event: "ACTION_RESULT", device_id: "fuzzed", data: { command: "x", success: true, requestId: "r" } },
];

/** A valid frame with one field (top level, in params/data, or the whole data) replaced by junk. */
const mutatedFrame = fc
  .tuple(
    fc.constantFrom(...templates),
    fc.constantFrom("method", "params", "event", "type", "device_id", "data", "payload", "inner"),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 20 }),
  )
  .map(([template, field, junk, innerKey]) => {
    const frame = structuredClone(template);
    if (field === "inner") {
      const holder = (frame.params ?? frame.data) as Record<string, unknown>;
      const keys = Object.keys(holder);
      holder[keys.length > 0 && innerKey.length % 2 === 0 ? keys[innerKey.length % keys.length]! : innerKey] =
        junk;
    } else frame[field] = junk;
    return JSON.stringify(frame);
  });

/** Any text, any JSON, and near-valid frames: only those the protocol refuses are kept. */
const malformedFrame = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
    fc
      .record({
        event: fc.oneof(fc.constantFrom(...EVENTS), fc.string()),
        device_id: fc.jsonValue(),
        data: fc.jsonValue(),
      })
      .map((f) => JSON.stringify(f)),
    mutatedFrame,
  )
  .filter((text) => parseDriverMessage(text).kind === "problem");

/** Well-formed events for devices this driver never announced. */
const unknownDeviceFrame = fc
  .record({
    event: fc.constantFrom("STATE_UPDATE", "METRIC_UPDATE", "DEVICE_UPDATED"),
    device_id: fc.string({ minLength: 1, maxLength: 128 }).filter((id) => id !== "fuzzed"),
  })
  .map(({ event, device_id }) =>
    JSON.stringify({
      event,
      device_id,
      data:
        event === "METRIC_UPDATE" ? { metrics: [] } : event === "DEVICE_UPDATED" ? { name: "x" } : { on: 1 },
    }),
  );

describe("parseDriverMessage", () => {
  const isMessage = (m: ReturnType<typeof parseDriverMessage>) =>
    m.kind === "register" || m.kind === "event" || (m.kind === "problem" && m.problem.error.length > 0);

  test("never throws on arbitrary text or JSON: a registration, an event, or a problem", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (t) => isMessage(parseDriverMessage(t))),
      {
        numRuns: 2000,
      },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => isMessage(parseDriverMessage(JSON.stringify(v) ?? "null"))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(mutatedFrame, (t) => isMessage(parseDriverMessage(t))),
      { numRuns: 2000 },
    );
  });
});

describe("a live station", () => {
  const clock = createManualClock(Date.now());
  let s: TestStation;
  let admin: string;
  let d: DriverSocket;
  let id: string;
  beforeAll(async () => {
    s = await startTestStation({ clock });
    admin = await s.userToken("fuzz-admin", "admin");
    d = await connectDriver(s, { token: await driverToken(s, "FUZZ") });
    await registerDriver(d, "FUZZ", "fuzz-1");
    d.send(discovered("fuzzed"));
    id = await stationIdOf(s, admin, "FUZZ", "fuzzed");
    d.send({ event: "STATE_UPDATE", device_id: "fuzzed", data: { current_celsius: 20 } });
    d.send({ event: "METRIC_UPDATE", device_id: "fuzzed", data: { metrics: [{ key: "t", value: 20 }] } });
    await eventually(
      () => getDevice(s, admin, id),
      (dev) => dev.state.current_celsius === 20 && (dev.metrics ?? []).length === 1,
    );
  });
  afterAll(async () => {
    d.close();
    await s.stop();
  });

  /** Everything a user can see of what the station stores. */
  async function stored() {
    const read = async (path: string) => (await s.api(path, { token: admin })).json();
    return {
      devices: await read("/api/devices"),
      events: await read(`/api/devices/${id}/events?limit=500`),
      drivers: ((await read("/api/drivers")) as { drivers: { devices: unknown }[] }).drivers.map(
        (x) => x.devices,
      ),
    };
  }

  bunOnly(CLOCK_ONLY_IN_PROCESS)(
    "each malformed frame gets one error frame; the socket stays open and nothing stored changes",
    async () => {
      const before = await stored();
      await fc.assert(
        fc.asyncProperty(fc.oneof(malformedFrame, unknownDeviceFrame), async (text) => {
          // One message's worth of budget per frame, so the rate limit never answers instead.
          clock.advance(1000 / DEFAULT_DRIVER_LIMITS.ratePerSecond);
          d.send(text);
          const reply = await d.next();
          expect(driverErrorFrameSchema.parse(reply)).toMatchObject({
            ok: false,
            code: "DRIVER_WS_VALIDATION_ERROR",
          });
        }),
        { numRuns: 400 },
      );
      expect(d.ws.readyState).toBe(WebSocket.OPEN);
      expect((await s.api("/api/health")).status).toBe(200);
      expect(await stored()).toEqual(before);
      // And the session still works.
      d.send({ event: "STATE_UPDATE", device_id: "fuzzed", data: { current_celsius: 22 } });
      await eventually(
        () => getDevice(s, admin, id),
        (dev) => dev.state.current_celsius === 22,
      );
    },
  );
});
