import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { doctorReportSchema, stationInfoSchema } from "../src/protocol/index.ts";
import { VERSION } from "../src/version.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { stationRuntime } from "./helpers/station-runtime.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

// GET /api/station and POST /api/doctor (issue 15): what the administration and diagnostics
// pages show, for admins only.
const env = {
  OPENGENIE_BLE_BRIDGE: `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")}`,
};
let s: TestStation;
let admin: string;
let member: string;
beforeAll(async () => {
  s = await startTestStation({ env });
  admin = await s.userToken("ada", "admin");
  member = await s.userToken("mel", "member");
});
afterAll(() => s.stop());

describe("GET /api/station", () => {
  test("tells an admin the version, uptime and the broker address firmware authors put in devices", async () => {
    const res = await s.api("/api/station", { token: admin });
    expect(res.status).toBe(200);
    const info = stationInfoSchema.parse(await res.json());
    expect(info).toMatchObject({
      version: VERSION,
      stationId: s.config.stationId,
      remoteAccess: true,
      mqtt: { mode: "embedded", connected: true, host: "127.0.0.1", port: s.info.mqttPort },
    });
    expect(info.runtime).toStartWith(`${stationRuntime} `);
    expect(info.startedAt).toBeLessThanOrEqual(Date.now());
    expect(info.uptimeMs).toBeGreaterThanOrEqual(0);
  });

  test("401 without a token, 403 for a member", async () => {
    expect((await s.api("/api/station")).status).toBe(401);
    expect((await s.api("/api/station", { token: member })).status).toBe(403);
  });

  test("says when the kill switch is on", async () => {
    const off = await startTestStation({ env: { OPENGENIE_REMOTE_ACCESS: "off" } });
    try {
      const token = await off.userToken("ada", "admin");
      const info = stationInfoSchema.parse(await (await off.api("/api/station", { token })).json());
      expect(info.remoteAccess).toBe(false);
    } finally {
      await off.stop();
    }
  });
});

describe("POST /api/doctor", () => {
  test("runs on the station the same checks as 'opengenie doctor', each with its status and fix", async () => {
    const res = await s.api("/api/doctor", { method: "POST", token: admin });
    expect(res.status).toBe(200);
    const { checks } = doctorReportSchema.parse(await res.json());
    const fromCli = await cli(s.dataDir, ["doctor", "--json"], "", env);
    const cliChecks = doctorReportSchema.parse(JSON.parse(fromCli.stdout)).checks;
    expect(checks.map((c) => c.id)).toEqual(cliChecks.map((c) => c.id));
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    // The station checks itself: it is running, its broker connected, its storage writing.
    expect(byId.station).toMatchObject({ status: "ok" });
    // The station's own process: this one on Bun, the spawned one on Deno.
    expect(byId.station?.detail).toContain(`pid ${s.info.pid}`);
    expect(byId.mqtt).toMatchObject({ status: "ok" });
    expect(byId.database).toMatchObject({ status: "ok" });
    expect(byId["ble.adapter"]).toMatchObject({ status: "ok", detail: "scan started" });
    for (const c of checks) if (c.status === "fail") expect(c.fix?.length).toBeGreaterThan(0);
  }, 30_000);

  test("401 without a token, 403 for a member", async () => {
    expect((await s.api("/api/doctor", { method: "POST" })).status).toBe(401);
    expect((await s.api("/api/doctor", { method: "POST", token: member })).status).toBe(403);
  });
});

test("the OpenAPI document describes the administration API with the protocol's named schemas", async () => {
  const doc = (await (await s.api("/api/openapi.json", { token: member })).json()) as {
    paths: Record<string, Record<string, { "x-opengenie-access"?: string }>>;
    components: { schemas: Record<string, unknown> };
  };
  expect(doc.paths["/api/setup"]?.post?.["x-opengenie-access"]).toBe("public");
  expect(doc.paths["/api/users/{id}"]?.patch?.["x-opengenie-access"]).toBe("admin");
  expect(doc.paths["/api/users/{id}"]?.delete?.["x-opengenie-access"]).toBe("admin");
  expect(doc.paths["/api/tokens"]?.post?.["x-opengenie-access"]).toBe("guest");
  expect(doc.paths["/api/tokens/{id}"]?.delete?.["x-opengenie-access"]).toBe("guest");
  expect(doc.paths["/api/station"]?.get?.["x-opengenie-access"]).toBe("admin");
  expect(doc.paths["/api/doctor"]?.post?.["x-opengenie-access"]).toBe("admin");
  for (const id of [
    "SetupRequest",
    "SetupResult",
    "UserRecord",
    "ChangeRoleRequest",
    "AccessTokenInfo",
    "CreatedToken",
    "StationInfo",
    "DoctorReport",
  ])
    expect(Object.keys(doc.components.schemas)).toContain(id);
});
