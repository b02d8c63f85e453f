import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { driverListSchema, driverRevokedSchema, driverTokenSchema } from "../src/protocol/index.ts";
import { connectDriver, discovered, registerDriver, stationIdOf } from "./helpers/drivers.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation } from "./helpers/test-station.ts";
import { upgradeStatus } from "./helpers/ws-client.ts";

// `opengenie driver token` and `opengenie drivers` (CONTRACT.md section 1) work on the data dir
// whether or not a station runs; with one running they go through it.
let temp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  temp = makeTempDir();
});
afterAll(() => temp.remove());

/** Every byte of the data dir's database files. */
function databaseBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.includes(".sqlite") || f.endsWith(".db") || f.includes(".db-"))
    .map((f) => readFileSync(join(dir, f)).toString("latin1"))
    .join("");
}

test("driver token without a station: printed once, stored hashed, and it opens /driver once a station runs", async () => {
  const dir = temp.path;
  const made = await cli(dir, ["driver", "token", "GARAGE_HUB"]);
  expect(made.code).toBe(0);
  // stdout is the token alone, for TOKEN=$(opengenie driver token …); the advice goes to stderr.
  expect(made.stdout).toMatch(/^ogd_[A-Za-z0-9_-]{40,}\n$/);
  expect(made.stderr).toContain("only time");
  const token = made.stdout.trim();
  const bytes = databaseBytes(dir);
  expect(bytes).toContain(createHash("sha256").update(token).digest("hex"));
  expect(bytes).not.toContain(token);

  const json = await cli(dir, ["driver", "token", "OTHER_HUB", "--json"]);
  expect(json.code).toBe(0);
  expect(driverTokenSchema.parse(JSON.parse(json.stdout))).toMatchObject({ driverKey: "OTHER_HUB" });

  const refused = await cli(dir, ["driver", "token", "garage-hub"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe(
    "error: driverKey must match [A-Z0-9_] and be 2-64 chars; got 'garage-hub' (did you mean GARAGE_HUB?)\n",
  );
  expect((await cli(dir, ["driver", "token"])).code).toBe(1);

  const s = await startTestStation({ dataDir: dir });
  try {
    const admin = await s.userToken("cli-drv-admin", "admin");
    const d = await connectDriver(s, { token });
    await registerDriver(d, "GARAGE_HUB", "garage-1");
    d.send(discovered("door-1", "Garage door"));
    const id = await stationIdOf(s, admin, "GARAGE_HUB", "door-1");

    // With the station running, `drivers` asks it: the live session is listed.
    const listed = await cli(dir, ["drivers", "--json"]);
    expect(listed.code).toBe(0);
    const { drivers } = driverListSchema.parse(JSON.parse(listed.stdout));
    expect(drivers.map((x) => x.driverKey)).toEqual(["GARAGE_HUB", "OTHER_HUB"]);
    expect(drivers[0]).toMatchObject({
      sessions: [{ instanceId: "garage-1", trustedLoopback: false }],
      devices: [{ id, deviceId: "door-1", name: "Garage door", online: true }],
    });
    const text = await cli(dir, ["drivers"]);
    expect(text.stdout).toContain("GARAGE_HUB  token since");
    expect(text.stdout).toContain("garage-1 from 127.0.0.1");
    expect(text.stdout).toMatch(new RegExp(`${id}\\s+Garage door\\s+climate\\s+yes\\s+door-1`));
    d.close();
    await d.closed;
  } finally {
    await s.stop();
  }

  // Without it, the data dir answers: no sessions, the devices as last written.
  const offline = await cli(dir, ["drivers", "--json"]);
  const after = driverListSchema.parse(JSON.parse(offline.stdout)).drivers;
  expect(after[0]).toMatchObject({
    driverKey: "GARAGE_HUB",
    sessions: [],
    devices: [{ deviceId: "door-1" }],
  });

  const revoked = await cli(dir, ["driver", "token", "--revoke", "GARAGE_HUB", "--json"]);
  expect(driverRevokedSchema.parse(JSON.parse(revoked.stdout))).toEqual({
    driverKey: "GARAGE_HUB",
    revoked: true,
    closedSessions: 0,
  });
  expect((await cli(dir, ["driver", "token", "--revoke", "GARAGE_HUB"])).stdout).toBe(
    "GARAGE_HUB had no token\n",
  );

  const again = await startTestStation({ dataDir: dir });
  try {
    expect(await upgradeStatus(`${again.url}/driver?token=${token}`)).toBe(401);
  } finally {
    await again.stop();
  }
});
