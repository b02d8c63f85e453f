import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { UserRecord } from "../src/protocol/index.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

// PATCH and DELETE /api/users/{id} (issue 15): only an owner gives or takes owner and admin, the
// last owner stays, and a removed user is signed out everywhere at once.
let s: TestStation;
let owner: string;
let admin: string;
let member: string;
beforeAll(async () => {
  s = await startTestStation();
  owner = await s.userToken("root", "owner");
  admin = await s.userToken("ada", "admin");
  member = await s.userToken("mel", "member");
});
afterAll(() => s.stop());

async function users(): Promise<UserRecord[]> {
  const res = await s.api("/api/users", { token: owner });
  return ((await res.json()) as { users: UserRecord[] }).users;
}
async function idOf(username: string): Promise<string> {
  const user = (await users()).find((u) => u.username === username);
  if (!user) throw new Error(`no user ${username}`);
  return user.id;
}
async function makeUser(username: string, role: string) {
  await s.addUser(username, role);
  return idOf(username);
}
const patch = (id: string, body: unknown, token: string) =>
  s.api(`/api/users/${id}`, { method: "PATCH", token, body: JSON.stringify(body) });
const remove = (id: string, token: string) => s.api(`/api/users/${id}`, { method: "DELETE", token });
async function errorCode(res: Response) {
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
}

describe("PATCH /api/users/{id}", () => {
  test("an admin changes a member's role; the new role applies to the user's next request", async () => {
    const id = await makeUser("gus", "guest");
    const gus = await s.login("gus");
    expect((await s.api("/api/devices", { method: "POST", token: gus, body: "{}" })).status).toBe(403);
    const res = await patch(id, { role: "member" }, admin);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: { id, username: "gus", role: "member" } });
    expect((await users()).find((u) => u.id === id)?.role).toBe("member");
    // Not cached for seconds: the very next request sees the role.
    const commands = await s.api("/api/devices/nope/commands", {
      method: "POST",
      token: gus,
      body: JSON.stringify({ action: "turn_on" }),
    });
    expect(commands.status).toBe(404);
  });

  test("a demotion reaches the user's open /ws socket at once", async () => {
    const id = await makeUser("sockmember", "member");
    const socket = await openSocket(`${s.wsUrl}/ws?token=${await s.login("sockmember")}`);
    try {
      await socket.next(); // welcome
      const command = () => socket.request("devices.command", { id: "nope", action: "turn_on" });
      expect(await command()).not.toMatchObject({ code: "FORBIDDEN" });
      expect((await patch(id, { role: "guest" }, admin)).status).toBe(200);
      expect(await command()).toMatchObject({ type: "error", code: "FORBIDDEN" });
      expect(await socket.request("auth.whoami")).toMatchObject({ data: { user: { role: "guest" } } });
    } finally {
      socket.close();
    }
  });

  test("only an owner gives or takes admin and owner", async () => {
    const id = await makeUser("pat", "member");
    expect(await errorCode(await patch(id, { role: "admin" }, admin))).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
    expect(await errorCode(await patch(await idOf("ada"), { role: "member" }, admin))).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
    expect((await patch(id, { role: "admin" }, owner)).status).toBe(200);
    expect((await patch(id, { role: "member" }, owner)).status).toBe(200);
    expect((await users()).find((u) => u.id === id)?.role).toBe("member");
  });

  test("the last owner cannot be demoted (409); with a second owner it can", async () => {
    const rootId = await idOf("root");
    expect(await errorCode(await patch(rootId, { role: "admin" }, owner))).toEqual({
      status: 409,
      code: "CONFLICT",
    });
    expect((await users()).find((u) => u.id === rootId)?.role).toBe("owner");
    const second = await makeUser("otto", "owner");
    expect((await patch(second, { role: "member" }, owner)).status).toBe(200);
  });

  test("malformed bodies and ids are 400, unknown users 404, and nothing changes", async () => {
    const id = await makeUser("steady", "member");
    const before = await users();
    for (const body of ["{", '{"role":"superuser"}', "{}", '{"role":1}', "[]", "null"]) {
      const res = await s.api(`/api/users/${id}`, { method: "PATCH", token: owner, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await patch("x".repeat(65), { role: "guest" }, owner)).status).toBe(400);
    expect(await errorCode(await patch("no-such-user", { role: "guest" }, owner))).toEqual({
      status: 404,
      code: "NOT_FOUND",
    });
    expect(await users()).toEqual(before);
  });

  test("401 without a token, 403 for a member, nothing changed", async () => {
    const id = await idOf("mel");
    expect((await s.api(`/api/users/${id}`, { method: "PATCH", body: '{"role":"owner"}' })).status).toBe(401);
    expect((await patch(id, { role: "owner" }, member)).status).toBe(403);
    expect((await remove(id, member)).status).toBe(403);
    expect((await s.api(`/api/users/${id}`, { method: "DELETE" })).status).toBe(401);
    expect((await users()).find((u) => u.id === id)?.role).toBe("member");
  });
});

describe("DELETE /api/users/{id}", () => {
  test("removing a user revokes every session: their sockets close with 4003 and their tokens stop working", async () => {
    const id = await makeUser("leaver", "member");
    const login1 = await s.login("leaver");
    const login2 = await s.login("leaver");
    const created = await s.api("/api/tokens", { method: "POST", token: login1, body: '{"label":"script"}' });
    const { accessToken } = (await created.json()) as { accessToken: string };
    const sockets = await Promise.all(
      [login1, login2, accessToken].map((t) => openSocket(`${s.wsUrl}/ws?token=${t}`)),
    );
    for (const socket of sockets) await socket.next(); // welcome
    const bystander = await openSocket(`${s.wsUrl}/ws?token=${member}`);
    await bystander.next();

    expect((await remove(id, admin)).status).toBe(204);
    for (const socket of sockets) expect((await socket.closed).code).toBe(4003);
    for (const t of [login1, login2, accessToken])
      expect((await s.api("/api/auth/me", { token: t })).status).toBe(401);
    expect((await users()).some((u) => u.id === id)).toBe(false);
    // Someone else's socket stays open.
    expect((await bystander.request("ping")).type).toBe("result");
    bystander.close();
    expect(await errorCode(await remove(id, admin))).toEqual({ status: 404, code: "NOT_FOUND" });
  });

  test("only an owner removes admins and owners", async () => {
    const id = await makeUser("adminette", "admin");
    expect(await errorCode(await remove(id, admin))).toEqual({ status: 403, code: "FORBIDDEN" });
    expect(await errorCode(await remove(await idOf("root"), admin))).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
    expect((await users()).some((u) => u.id === id)).toBe(true);
    expect((await remove(id, owner)).status).toBe(204);
    // An admin may leave by themselves.
    const selfId = await makeUser("leaving-admin", "admin");
    const self = await s.login("leaving-admin");
    expect((await remove(selfId, self)).status).toBe(204);
    expect((await s.api("/api/auth/me", { token: self })).status).toBe(401);
  });

  test("nobody removes the last owner, not even themselves; an owner who is not the last may leave", async () => {
    const rootId = await idOf("root");
    expect(await errorCode(await remove(rootId, owner))).toEqual({ status: 409, code: "CONFLICT" });
    const otherId = await makeUser("departing-owner", "owner");
    const other = await s.login("departing-owner");
    expect((await remove(otherId, other)).status).toBe(204);
    expect((await s.api("/api/auth/me", { token: other })).status).toBe(401);
    expect(await errorCode(await remove(rootId, owner))).toEqual({ status: 409, code: "CONFLICT" });
    expect((await users()).find((u) => u.id === rootId)?.role).toBe("owner");
  });
});

test("two owners stepping down at the same moment leave one owner (changes run one at a time)", async () => {
  const t = await startTestStation();
  try {
    const [a, b] = [await t.userToken("twin-a", "owner"), await t.userToken("twin-b", "owner")];
    const watcher = await t.userToken("watcher", "admin");
    const list = async () =>
      ((await (await t.api("/api/users", { token: watcher })).json()) as { users: UserRecord[] }).users;
    const ids = Object.fromEntries((await list()).map((u) => [u.username, u.id]));
    const results = await Promise.all(
      [
        [ids["twin-a"], a],
        [ids["twin-b"], b],
      ].map(([id, token]) =>
        t.api(`/api/users/${id}`, { method: "PATCH", token, body: '{"role":"member"}' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const owners = (await list()).filter((u) => u.role === "owner");
    expect(owners.length).toBe(1);
  } finally {
    await t.stop();
  }
});
