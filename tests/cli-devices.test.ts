import { afterAll, beforeAll, expect, test } from "bun:test";
import { createAccessTokenCodec, LOCAL_CLI_AUDIENCE } from "../src/auth/index.ts";
import { createdDeviceSchema, type Device, deviceListSchema } from "../src/protocol/index.ts";
import { eventually, getDevice, simFor } from "./helpers/devices.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("cli-admin", "admin");
});
afterAll(() => s.stop());

test("`device add --json` on a running station prints the API body, and the device can join with it", async () => {
  const env = { OPENGENIE_ADVERTISE_HOST: "127.0.0.1" };
  const out = await cli(
    s.dataDir,
    ["device", "add", "--name", "Garage", "--type", "switch", "--json"],
    "",
    env,
  );
  expect(out.code).toBe(0);
  const json = JSON.parse(out.stdout);
  expect(Object.keys(json).sort()).toEqual(["credentials", "device"]);
  const body = createdDeviceSchema.parse(json);
  expect(body.credentials).toMatchObject({
    stationId: s.config.stationId,
    deviceId: body.device.id,
    mqttHost: "127.0.0.1",
    mqttPort: s.info.mqttPort,
    mqttUsername: body.device.id,
  });
  const sim = simFor(body.credentials, "switch");
  try {
    await sim.start();
    await eventually(
      () => getDevice(s, admin, body.device.id),
      (d) => d.online && d.state.power === "off",
    );
  } finally {
    await sim.stop();
  }
  const list = await cli(s.dataDir, ["devices", "--json"]);
  expect(deviceListSchema.parse(JSON.parse(list.stdout)).devices.map((d) => d.name)).toContain("Garage");
  const table = await cli(s.dataDir, ["devices"]);
  expect(table.stdout).toContain("Garage");
});

test("`device add` refuses an unknown type with one error line", async () => {
  const out = await cli(s.dataDir, ["device", "add", "--name", "Toaster", "--type", "toaster"]);
  expect(out.code).toBe(1);
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
  expect(out.stderr).toContain("unknown device type toaster");
});

test("`device add` on a running station goes through it: an app watching devices hears device.added at once", async () => {
  const socket = await openSocket(`${s.wsUrl}/ws?token=${admin}`);
  try {
    await socket.next(); // welcome
    const sub = await socket.request("subscribe", { channel: "devices" });
    expect(sub.type).toBe("result");
    const out = await cli(s.dataDir, ["device", "add", "--name", "Porch", "--type", "light", "--json"]);
    expect(out.code).toBe(0);
    const { device } = JSON.parse(out.stdout) as { device: Device };
    const push = await socket.waitFor((f) => f.type === "push" && f.event === "device.added", 5000);
    expect((push.data as { device: Device }).device).toMatchObject({ id: device.id, name: "Porch" });
    // The running station knows it without a restart.
    expect((await getDevice(s, admin, device.id)).name).toBe("Porch");
  } finally {
    socket.close();
  }
});

test("a token the CLI signs for itself is never owner and never long-lived", async () => {
  const codec = createAccessTokenCodec(s.config.jwtSecret);
  const forge = (role: string, ttlMs: number) =>
    codec.sign({ sub: LOCAL_CLI_AUDIENCE, sid: "cli:x", role, aud: LOCAL_CLI_AUDIENCE }, Date.now() + ttlMs);
  const asAdmin = await s.api("/api/users", { token: await forge("admin", 30_000) });
  expect(asAdmin.status).toBe(200);
  const asOwner = await s.api("/api/users", { token: await forge("owner", 30_000) });
  expect(asOwner.status).toBe(401);
  const longLived = await s.api("/api/users", { token: await forge("admin", 3_600_000) });
  expect(longLived.status).toBe(401);
  const otherSecret = await createAccessTokenCodec("not-the-station-secret").sign(
    { sub: LOCAL_CLI_AUDIENCE, sid: "cli:y", role: "admin", aud: LOCAL_CLI_AUDIENCE },
    Date.now() + 30_000,
  );
  expect((await s.api("/api/users", { token: otherSecret })).status).toBe(401);
});
