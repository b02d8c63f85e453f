import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, getDevice } from "./helpers/devices.ts";
import {
  answerTo,
  connectDriver,
  type DriverSocket,
  discovered,
  driverToken,
  registerDriver,
  stationIdOf,
} from "./helpers/drivers.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { upgradeStatus } from "./helpers/ws-client.ts";

// Registration, sessions and authentication on /driver (CONTRACT.md section 4), with the error
// messages HOS gives (wiki.haptique.io, troubleshooting) and the aliases published drivers send.
let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("reg-admin", "admin");
});
afterAll(() => s.stop());

const validationError = (error: string, ...details: string[]) => ({
  ok: false,
  code: "DRIVER_WS_VALIDATION_ERROR",
  error,
  details,
  protocolVersion: 1,
});
const KEY_RULE = "driverKey must match [A-Z0-9_] and be 2-64 chars.";
const INSTANCE_RULE = "instanceId must match [a-zA-Z0-9:_-] and be 1-128 chars.";
const register = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  method: "driver.register",
  params,
  ...extra,
});

test("driver.register: each validation error with HOS's message, then a good one on the same socket", async () => {
  const d = await connectDriver(s, { token: await driverToken(s, "MY_DRIVER") });
  const cases: [Record<string, unknown>, ReturnType<typeof validationError>][] = [
    [
      register({ driverKey: "MY_DRIVER", instanceId: "my-driver:001" }),
      validationError("protocolVersion is required for driver.register.", "Set protocolVersion: 1."),
    ],
    [
      register({ driverKey: "MY_DRIVER", instanceId: "my-driver:001", protocolVersion: 2 }),
      validationError("Unsupported protocolVersion.", "Set protocolVersion: 1."),
    ],
    [
      register({ driverKey: "my-driver!", instanceId: "my-driver:001", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", KEY_RULE),
    ],
    [
      register({ driverKey: "A", instanceId: "my-driver:001", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", KEY_RULE),
    ],
    [
      register({ driverKey: "K".repeat(65), instanceId: "my-driver:001", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", KEY_RULE),
    ],
    [
      register({ instanceId: "my-driver:001", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", KEY_RULE),
    ],
    [
      register({ driverKey: "MY_DRIVER", instanceId: "my driver @home", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", INSTANCE_RULE),
    ],
    [
      register({ driverKey: "MY_DRIVER", instanceId: "", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", INSTANCE_RULE),
    ],
    [
      register({ driverKey: "MY_DRIVER", instanceId: "i".repeat(129), protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", INSTANCE_RULE),
    ],
    [
      register({ driverKey: "bad key", instanceId: "bad id", protocolVersion: 1 }),
      validationError("Invalid driver.register payload.", KEY_RULE, INSTANCE_RULE),
    ],
    [
      { method: "driver.register", params: "MY_DRIVER" },
      validationError("Invalid driver.register payload.", "params must be an object."),
    ],
  ];
  for (const [frame, expected] of cases)
    expect({ frame, reply: await answerTo(d, frame) }).toEqual({ frame, reply: expected });
  // Boundaries that are fine: 2 and 64 chars, every allowed character.
  expect(
    await answerTo(d, register({ driverKey: "MY_DRIVER", instanceId: "aZ0:_-", protocolVersion: 1 })),
  ).toEqual({
    event: "REGISTERED",
    ok: true,
    driverKey: "MY_DRIVER",
    instanceId: "aZ0:_-",
  });
  d.close();
});

test("the aliases published drivers send: top-level protocolVersion, type, payload, data.deviceId, correlationId, driver", async () => {
  const d = await connectDriver(s, { token: await driverToken(s, "BYD_VEHICLE") });
  // The BYD vehicle driver's register: protocolVersion beside params, not in them.
  expect(
    await answerTo(d, {
      method: "driver.register",
      protocolVersion: 1,
      params: { driverKey: "BYD_VEHICLE", instanceId: "byd:0123456789abcdef", name: "BYD Vehicle" },
    }),
  ).toEqual({ event: "REGISTERED", ok: true, driverKey: "BYD_VEHICLE", instanceId: "byd:0123456789abcdef" });

  d.send({
    type: "DEVICE_DISCOVERED",
    driver: "byd_vehicle",
    payload: {
      deviceId: "byd:3f1c0a",
      name: "Seal",
      deviceType: "sensor",
      driverKey: "BYD_VEHICLE",
      driverInstanceId: "byd:0123456789abcdef",
      properties: {
        manufacturer: "BYD",
        model: null,
        commandCatalog: [
          { key: "refresh_state", label: "Refresh", idempotent: true },
          {
            key: "start_climate",
            label: "Start climate",
            idempotent: true,
            payloadSchema: {
              type: "object",
              additionalProperties: false,
              properties: {
                temperature: { type: "number", minimum: 15, maximum: 31 },
                duration: { type: "integer", enum: [10, 15, 20, 25, 30] },
              },
            },
          },
        ],
      },
    },
  });
  const id = await stationIdOf(s, admin, "BYD_VEHICLE", "byd:3f1c0a");
  d.send({
    event: "STATE_UPDATE",
    driver: "byd_vehicle",
    payload: {
      device_id: "byd:3f1c0a",
      extras: { sensors: { battery: { name: "Battery", value: 80, unit: "%" } } },
    },
  });
  const device = await eventually(
    () => getDevice(s, admin, id),
    (dev) => Boolean(dev.state.extras),
  );
  expect(device).toMatchObject({ name: "Seal", type: "sensor", transport: "driver", online: true });
  expect(device.state.extras).toEqual({ sensors: { battery: { name: "Battery", value: 80, unit: "%" } } });

  const bad = await s.api(`/api/devices/${id}/commands`, {
    method: "POST",
    token: admin,
    body: JSON.stringify({ action: "start_climate", params: { duration: 11 } }),
  });
  expect(bad.status).toBe(400);
  const pending = s.api(`/api/devices/${id}/commands?wait=5000`, {
    method: "POST",
    token: admin,
    body: JSON.stringify({ action: "start_climate", params: { temperature: 21, duration: 10 } }),
  });
  const action = await d.waitFor((f) => f.event === "ACTION");
  const requestId = (action.data as { requestId: string }).requestId;
  expect(action).toEqual({
    event: "ACTION",
    device_id: "byd:3f1c0a",
    data: { command: "start_climate", payload: { temperature: 21, duration: 10 }, requestId },
  });
  // The BYD driver answers with correlationId (and requestId), and extra fields of its own.
  d.send({
    type: "ACTION_RESULT",
    driver: "byd_vehicle",
    payload: {
      deviceId: "byd:3f1c0a",
      command: "start_climate",
      success: true,
      correlationId: requestId,
      latencyMs: 12,
    },
  });
  expect((await pending).status).toBe(200);
  d.close();
});

test("malformed, unknown or untimely messages each get a clear error frame, and the socket stays open", async () => {
  const d = await connectDriver(s, { token: await driverToken(s, "ERRORS") });
  const invalid = (error: string) =>
    expect.objectContaining({ ok: false, code: "DRIVER_WS_VALIDATION_ERROR", error });
  const before: [unknown, Record<string, unknown>][] = [
    ["not json {", invalid("Invalid JSON.")],
    ["[]", invalid("Invalid message.")],
    ["42", invalid("Invalid message.")],
    ["null", invalid("Invalid message.")],
    [{ method: "driver.unregister" }, invalid("Unknown method.")],
    [discovered("early"), invalid("Driver is not registered.")],
  ];
  for (const [frame, expected] of before)
    expect({ frame, reply: await answerTo(d, frame) }).toEqual({ frame, reply: expected });
  await registerDriver(d, "ERRORS", "errors-1");
  const after: [unknown, Record<string, unknown>][] = [
    [{ event: "NOPE", device_id: "x", data: {} }, invalid("Unknown event.")],
    [{}, invalid("Missing event.")],
    [{ event: "STATE_UPDATE", data: { on: true } }, invalid("Invalid STATE_UPDATE message.")],
    [{ event: "STATE_UPDATE", device_id: "ghost", data: { on: true } }, invalid("Unknown device.")],
    [{ event: "STATE_UPDATE", device_id: "ghost", data: [1, 2] }, invalid("Invalid STATE_UPDATE data.")],
    [
      { event: "METRIC_UPDATE", device_id: "ghost", data: { metrics: 5 } },
      invalid("Invalid METRIC_UPDATE data."),
    ],
    [
      { event: "DEVICE_DISCOVERED", device_id: "d1", data: { deviceType: "light" } },
      invalid("Invalid DEVICE_DISCOVERED data."),
    ],
    [
      { event: "ACTION_RESULT", device_id: "d1", data: { command: "x" } },
      invalid("Invalid ACTION_RESULT data."),
    ],
    [{ event: "DEVICE_UPDATED", device_id: "ghost", data: { name: "x" } }, invalid("Unknown device.")],
    [
      discovered("d1", "Loop", [
        { key: "spin", payloadSchema: { $id: "http://example.com/loop", $ref: "#" } },
      ]),
      expect.objectContaining({
        error: "Invalid DEVICE_DISCOVERED data.",
        details: [expect.stringContaining("cannot be evaluated")],
      }),
    ],
    [
      discovered("d1", "Odd", [{ key: "spin", payloadSchema: { type: "foo" } }]),
      expect.objectContaining({
        error: "Invalid DEVICE_DISCOVERED data.",
        details: [expect.stringContaining("not a usable JSON Schema")],
      }),
    ],
    [discovered("d1", "Twice", [{ key: "a" }, { key: "a" }]), invalid("Invalid DEVICE_DISCOVERED data.")],
  ];
  for (const [frame, expected] of after)
    expect({ frame, reply: await answerTo(d, frame) }).toEqual({ frame, reply: expected });
  // None of that created a device, and the session still works.
  d.send(discovered("d1", "Fine"));
  await stationIdOf(s, admin, "ERRORS", "d1");
  const { drivers } = (await (await s.api("/api/drivers", { token: admin })).json()) as {
    drivers: { driverKey: string; devices: unknown[] }[];
  };
  expect(drivers.find((x) => x.driverKey === "ERRORS")?.devices).toHaveLength(1);
  d.close();
});

test("a newer session with the same driverKey and instanceId replaces the older with 4001; another instance does not", async () => {
  const token = await driverToken(s, "REPLACED");
  const first = await connectDriver(s, { token });
  await registerDriver(first, "REPLACED", "replaced-1");
  first.send(discovered("r-dev"));
  const id = await stationIdOf(s, admin, "REPLACED", "r-dev");

  const second = await connectDriver(s, { token });
  await registerDriver(second, "REPLACED", "replaced-1");
  expect((await first.closed).code).toBe(4001);
  // The device now belongs to the newer session: still online, its commands go there.
  expect((await getDevice(s, admin, id)).online).toBe(true);
  const other = await connectDriver(s, { token });
  await registerDriver(other, "REPLACED", "replaced-2");
  const pending = s.api(`/api/devices/${id}/commands?wait=5000`, {
    method: "POST",
    token: admin,
    body: JSON.stringify({ action: "refresh_state" }),
  });
  const action = await second.waitFor((f) => f.event === "ACTION");
  const requestId = (action.data as { requestId: string }).requestId;
  // Another driver's session cannot answer for it.
  other.send({
    event: "ACTION_RESULT",
    device_id: "r-dev",
    data: { command: "refresh_state", success: false, requestId },
  });
  second.send({
    event: "ACTION_RESULT",
    device_id: "r-dev",
    data: { command: "refresh_state", success: true, requestId },
  });
  expect((await pending).status).toBe(200);
  expect(second.ws.readyState).toBe(WebSocket.OPEN);
  expect(other.ws.readyState).toBe(WebSocket.OPEN);
  second.close();
  other.close();
});

describe("tokens", () => {
  test("401 before the upgrade without a token or with a wrong one; ?token= and Authorization: Bearer both work", async () => {
    const token = await driverToken(s, "AUTH_DRIVER");
    expect(await upgradeStatus(`${s.url}/driver`)).toBe(401);
    expect(await upgradeStatus(`${s.url}/driver?token=ogd_wrong`)).toBe(401);
    expect(await upgradeStatus(`${s.url}/driver`, { authorization: "Bearer ogd_wrong" })).toBe(401);
    // An account's access token is not a driver token.
    expect(await upgradeStatus(`${s.url}/driver?token=${admin}`)).toBe(401);
    const refused = await fetch(`${s.url}/driver`);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining("opengenie driver token"),
    });
    expect(await upgradeStatus(`${s.url}/driver?token=${token}`)).toBe(101);
    expect(await upgradeStatus(`${s.url}/driver`, { authorization: `Bearer ${token}` })).toBe(101);
    const viaHeader = await connectDriver(s, { token, as: "header" });
    await registerDriver(viaHeader, "AUTH_DRIVER", "header-1");
    viaHeader.close();
  });

  test("a token is bound to its driverKey: registering another is refused and the socket closes 4003", async () => {
    const d = await connectDriver(s, { token: await driverToken(s, "OWNER_A") });
    expect(
      await answerTo(d, {
        method: "driver.register",
        params: { driverKey: "OWNER_B", instanceId: "b-1", protocolVersion: 1 },
      }),
    ).toEqual({
      ok: false,
      code: "DRIVER_WS_FORBIDDEN",
      error: "This token is not for driverKey OWNER_B.",
      details: ["Create one with: opengenie driver token OWNER_B"],
      protocolVersion: 1,
    });
    expect((await d.closed).code).toBe(4003);
  });

  test("a new token replaces the old one; --revoke closes the sessions at once and the token stops working", async () => {
    const old = await driverToken(s, "ROTATED");
    const d1 = await connectDriver(s, { token: old });
    await registerDriver(d1, "ROTATED", "rotated-1");
    const fresh = await driverToken(s, "ROTATED");
    expect(fresh).not.toBe(old);
    expect((await d1.closed).code).toBe(4003);
    expect(await upgradeStatus(`${s.url}/driver?token=${old}`)).toBe(401);

    const d2 = await connectDriver(s, { token: fresh });
    await registerDriver(d2, "ROTATED", "rotated-1");
    const revoked = await cli(s.dataDir, ["driver", "token", "--revoke", "ROTATED"]);
    expect(revoked).toMatchObject({ code: 0, stdout: "revoked the token of ROTATED; closed 1 session\n" });
    expect((await d2.closed).code).toBe(4003);
    expect(await upgradeStatus(`${s.url}/driver?token=${fresh}`)).toBe(401);
  });
});

test("a frame over 64 KiB closes the socket with 1009", async () => {
  const d: DriverSocket = await connectDriver(s, { token: await driverToken(s, "BIG_FRAMES") });
  await registerDriver(d, "BIG_FRAMES", "big-1");
  d.send({ event: "STATE_UPDATE", device_id: "x", data: { blob: "x".repeat(65 * 1024) } });
  expect((await d.closed).code).toBe(1009);
});
