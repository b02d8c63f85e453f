import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSystemClock } from "../core/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { openDatabase, type StationDatabase } from "../storage/index.ts";
import { createAuthService, type Principal } from "./auth-service.ts";
import { createUserAdmin } from "./user-admin.ts";

let database: StationDatabase | undefined;
let dir: string | undefined;
afterEach(async () => {
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The last-owner rule is a read (how many owners?) then a write; two owners stepping down at the
// same moment must not both pass the read. Called directly, so the two changes truly overlap.
test("two owners stepping down at once: one succeeds, the other is refused, one owner remains", async () => {
  dir = mkdtempSync(join(tmpdir(), "opengenie-users-"));
  const platform = createBunPlatform();
  database = await openDatabase(platform, dir);
  const auth = createAuthService({
    db: database.db,
    platform,
    clock: createSystemClock(),
    jwtSecret: "x".repeat(32),
  });
  const users = createUserAdmin({ db: database.db, auth });
  const a = await auth.createUser("owner-a", "password-a", "owner");
  const b = await auth.createUser("owner-b", "password-b", "owner");
  const actor = (u: { id: string; username: string }): Principal => ({
    userId: u.id,
    username: u.username,
    role: "owner",
    sessionId: `s-${u.id}`,
    expiresAt: Date.now() + 60_000,
  });
  const outcomes = await Promise.allSettled([
    users.changeRole(actor(a), a.id, "member"),
    users.changeRole(actor(b), b.id, "member"),
  ]);
  expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
  const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  expect(rejected.reason).toMatchObject({ code: "CONFLICT" });
  expect((await auth.listUsers()).filter((u) => u.role === "owner")).toHaveLength(1);
});
