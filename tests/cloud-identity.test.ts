import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type FakeCloud, startFakeCloud } from "./fakes/fake-cloud.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";
import { openSocket } from "./helpers/ws-client.ts";

let cloud: FakeCloud;
let s: TestStation;

beforeAll(async () => {
  cloud = await startFakeCloud({ claimSecret: "s3cret" });
  s = await startTestStation({
    env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
  });
  await s.addUser("olga", "owner"); // made on the LAN before the claim
  await cloud.station();
});

afterAll(async () => {
  await s?.stop();
  await cloud?.stop();
});

function query<T>(sql: string): T[] {
  const db = new Database(join(s.dataDir, "opengenie.db"));
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}

type UserRow = { username: string; role: string; cloud_user_id: string | null };
const users = () => query<UserRow>("SELECT username, role, cloud_user_id FROM users ORDER BY username");
const stationName = () =>
  query<{ value: string }>("SELECT value FROM station_meta WHERE key = 'station_name'")[0]?.value;

/** Sends an identity message and waits until the station has applied or refused it. */
async function deliver(message: object) {
  const settled = () =>
    s.logger.lines.filter(
      (l) => l.includes("identity message applied") || l.includes("identity message not applied"),
    ).length;
  const before = settled();
  await cloud.send(message);
  await waitFor(
    () => settled() > before,
    5000,
    `the station to handle ${JSON.stringify(message).slice(0, 60)}`,
  );
}

/** The socket's close code, or "open" if it is still open after 5 s. */
function closeCode(sock: Awaited<ReturnType<typeof openSocket>>) {
  return Promise.race([sock.closed.then((c) => c.code), Bun.sleep(5000).then(() => "open" as const)]);
}

async function loginStatus(username: string, password: string) {
  const res = await s.api("/api/auth/login", {
    method: "POST",
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { accessToken?: string; user?: { role: string } },
  };
}

describe("cloud link: identity messages", () => {
  test("identity_sync upserts members by cloud id, adopts the LAN owner, renames the station", async () => {
    await deliver({
      type: "identity_sync",
      stationName: "Cabin",
      ownerCloudUserId: "c-olga",
      members: [
        { cloudUserId: "c-olga", username: "olga", role: "admin" },
        {
          cloudUserId: "c-mia",
          username: "mia",
          role: "member",
          passwordHash: await Bun.password.hash("mia-cloud-pass"),
        },
        { cloudUserId: "c-gus", username: "gus", role: "guest" },
      ],
    });
    expect(users()).toEqual([
      { username: "gus", role: "guest", cloud_user_id: "c-gus" },
      { username: "mia", role: "member", cloud_user_id: "c-mia" },
      { username: "olga", role: "owner", cloud_user_id: "c-olga" },
    ]);
    expect(stationName()).toBe("Cabin");
    // The hash as sent works for signing in; a member without one cannot sign in locally.
    expect((await loginStatus("mia", "mia-cloud-pass")).status).toBe(200);
    expect((await loginStatus("gus", "anything-at-all")).status).toBe(401);
    expect((await loginStatus("olga", "olga-password")).status).toBe(200);
  });

  test("member_added, member_updated and station_renamed change what they name", async () => {
    await deliver({ type: "member_added", member: { cloudUserId: "c-ned", username: "ned", role: "guest" } });
    await deliver({
      type: "member_updated",
      member: { cloudUserId: "c-ned", role: "admin", username: "ned2" },
    });
    await deliver({ type: "station_renamed", name: "Lake house" });
    expect(users().find((u) => u.cloud_user_id === "c-ned")).toEqual({
      username: "ned2",
      role: "admin",
      cloud_user_id: "c-ned",
    });
    expect(stationName()).toBe("Lake house");
  });

  test("a message that fails part-way changes nothing (one transaction)", async () => {
    const before = users();
    await deliver({
      type: "identity_sync",
      stationName: "Should not stick",
      members: [
        { cloudUserId: "c-new", username: "newbie", role: "member" },
        { cloudUserId: "c-other", username: "olga", role: "member" }, // olga belongs to c-olga
      ],
    });
    expect(users()).toEqual(before);
    expect(stationName()).toBe("Lake house");
  });

  test("member_removed deletes the user, revokes its sessions and closes its /ws with 4003", async () => {
    const token = (await loginStatus("mia", "mia-cloud-pass")).body.accessToken!;
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next(); // welcome
    await deliver({ type: "member_removed", cloudUserId: "c-mia" });
    expect(await closeCode(sock)).toBe(4003);
    expect((await s.api("/api/devices", { token })).status).toBe(401);
    expect(users().some((u) => u.username === "mia")).toBe(false);
  });

  test("station_password_changed stores the hash as sent and ends that user's sign-ins, not its tokens", async () => {
    await deliver({
      type: "member_added",
      member: {
        cloudUserId: "c-pat",
        username: "pat",
        role: "member",
        passwordHash: await Bun.password.hash("first-pass"),
      },
    });
    const login = (await loginStatus("pat", "first-pass")).body.accessToken!;
    const created = await cli(s.dataDir, ["token", "create", "--user", "pat"]);
    const longLived = created.stdout.trim();
    const sock = await openSocket(`${s.wsUrl}/ws?token=${login}`);
    await sock.next();
    await deliver({
      type: "station_password_changed",
      cloudUserId: "c-pat",
      passwordHash: await Bun.password.hash("second-pass"),
    });
    expect(await closeCode(sock)).toBe(4003);
    expect((await s.api("/api/devices", { token: login })).status).toBe(401);
    expect((await s.api("/api/devices", { token: longLived })).status).toBe(200);
    expect((await loginStatus("pat", "first-pass")).status).toBe(401);
    expect((await loginStatus("pat", "second-pass")).status).toBe(200);
  });
});

describe("cloud link: changes to an existing member reach what it has open", () => {
  test("member_updated demoting a member applies at once to its open /ws and its next request", async () => {
    await deliver({
      type: "member_added",
      member: {
        cloudUserId: "c-rita",
        username: "rita",
        role: "member",
        passwordHash: await Bun.password.hash("rita-pass"),
      },
    });
    const token = (await loginStatus("rita", "rita-pass")).body.accessToken!;
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    try {
      await sock.next(); // welcome
      const command = () => sock.request("devices.command", { id: "nope", action: "turn_on" });
      expect(await command()).not.toMatchObject({ code: "FORBIDDEN" });
      expect((await s.api("/api/automations", { token })).status).toBe(200); // the session is cached now
      await deliver({ type: "member_updated", member: { cloudUserId: "c-rita", role: "guest" } });
      expect(await command()).toMatchObject({ type: "error", code: "FORBIDDEN" });
      expect(await sock.request("auth.whoami")).toMatchObject({ data: { user: { role: "guest" } } });
      expect((await s.api("/api/automations", { token })).status).toBe(403);
    } finally {
      sock.close();
    }
  });

  test("member_updated with a new password hash ends that member's sign-ins", async () => {
    const login = (await loginStatus("rita", "rita-pass")).body.accessToken!;
    const sock = await openSocket(`${s.wsUrl}/ws?token=${login}`);
    await sock.next();
    await deliver({
      type: "member_updated",
      member: { cloudUserId: "c-rita", passwordHash: await Bun.password.hash("rita-new-pass") },
    });
    expect(await closeCode(sock)).toBe(4003);
    expect((await s.api("/api/devices", { token: login })).status).toBe(401);
    expect((await loginStatus("rita", "rita-new-pass")).status).toBe(200);
  });

  test("a burst of identity messages is applied in order, none dropped", async () => {
    const applied = () => s.logger.lines.filter((l) => l.includes("identity message applied")).length;
    const before = applied();
    const burst: object[] = [];
    for (let i = 0; i < 600; i++) {
      burst.push({
        type: "member_added",
        member: { cloudUserId: `c-b${i}`, username: `b${i}`, role: "guest" },
      });
      if (i % 2 === 0) burst.push({ type: "member_removed", cloudUserId: `c-b${i}` });
    }
    await Promise.all(burst.map((m) => cloud.send(m)));
    await waitFor(() => applied() - before >= burst.length, 20_000, "every message of the burst applied");
    const left = users()
      .map((u) => u.username)
      .filter((name) => /^b\d+$/.test(name));
    expect(left.sort()).toEqual(Array.from({ length: 300 }, (_, k) => `b${2 * k + 1}`).sort());
  }, 30_000);
});
