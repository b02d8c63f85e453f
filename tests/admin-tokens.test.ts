import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AccessTokenInfo, CreatedToken } from "../src/protocol/index.ts";
import { createdTokenSchema, tokenListSchema } from "../src/protocol/index.ts";
import { databasePath } from "../src/storage/index.ts";
import { READS_SQLITE_FILE, sqliteOnly } from "./helpers/test-database.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

// Long-lived tokens over HTTP (issue 15): each user makes and revokes their own; an admin sees
// and revokes everyone's; the token itself is shown once.
let s: TestStation;
let admin: string;
let member: string;
let guest: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("ada", "admin");
  member = await s.userToken("mel", "member");
  guest = await s.userToken("gil", "guest");
});
afterAll(() => s.stop());

const DAY = 86_400_000;
async function create(token: string, body: unknown): Promise<CreatedToken> {
  const res = await s.api("/api/tokens", { method: "POST", token, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return createdTokenSchema.parse(await res.json());
}
async function list(token: string): Promise<AccessTokenInfo[]> {
  const res = await s.api("/api/tokens", { token });
  expect(res.status).toBe(200);
  return tokenListSchema.parse(await res.json()).tokens;
}
const revoke = (id: string, token: string) => s.api(`/api/tokens/${id}`, { method: "DELETE", token });

describe("/api/tokens", () => {
  test("a guest makes a token for itself, shown once, that works and is listed without its secret", async () => {
    const before = Date.now();
    const made = await create(guest, { label: "kitchen tablet" });
    expect(made.token).toMatchObject({ label: "kitchen tablet", username: "gil", lastSeenAt: null });
    // 365 days unless asked otherwise.
    expect(made.token.expiresAt - made.token.createdAt).toBe(365 * DAY);
    expect(made.token.createdAt).toBeGreaterThanOrEqual(before);
    const me = await s.api("/api/auth/me", { token: made.accessToken });
    expect(await me.json()).toMatchObject({ user: { username: "gil", role: "guest" } });
    const listed = await list(guest);
    expect(listed).toEqual([made.token]);
    expect(JSON.stringify(await (await s.api("/api/tokens", { token: guest })).json())).not.toContain(
      made.accessToken,
    );
    const short = await create(guest, { label: "one day", ttlDays: 1 });
    expect(short.token.expiresAt - short.token.createdAt).toBe(DAY);
  });

  test("members see their own tokens, admins see everyone's; sign-in sessions are not tokens", async () => {
    const mine = await create(member, { label: "mel script" });
    const adminsOwn = await create(admin, { label: "ada script" });
    const memberView = await list(member);
    expect(memberView.map((t) => t.id)).toEqual([mine.token.id]);
    const adminView = (await list(admin)).map((t) => t.id);
    expect(adminView).toContain(mine.token.id);
    expect(adminView).toContain(adminsOwn.token.id);
    expect((await list(admin)).every((t) => t.label !== "")).toBe(true);
  });

  test("revoking closes the token's sockets with 4003 and it stops working; only the owner or an admin may", async () => {
    const made = await create(member, { label: "to revoke" });
    const socket = await openSocket(`${s.wsUrl}/ws?token=${made.accessToken}`);
    await socket.next();
    // Another member cannot revoke it, or even learn it exists.
    const other = await s.userToken("mo", "member");
    expect((await revoke(made.token.id, other)).status).toBe(404);
    expect((await s.api("/api/auth/me", { token: made.accessToken })).status).toBe(200);
    expect((await revoke(made.token.id, member)).status).toBe(204);
    expect((await socket.closed).code).toBe(4003);
    expect((await s.api("/api/auth/me", { token: made.accessToken })).status).toBe(401);
    expect((await list(member)).some((t) => t.id === made.token.id)).toBe(false);
    expect((await revoke(made.token.id, member)).status).toBe(404);

    const another = await create(member, { label: "admin revokes" });
    expect((await revoke(another.token.id, admin)).status).toBe(204);
    expect((await s.api("/api/auth/me", { token: another.accessToken })).status).toBe(401);
  });

  sqliteOnly(READS_SQLITE_FILE)(
    "a sign-in session or an unknown id is not a token: 404, and the session lives on",
    async () => {
      const login = await s.login("mel");
      const db = new Database(databasePath(s.dataDir), { readonly: true });
      const row = db
        .query(
          "SELECT sessions.id FROM sessions JOIN users ON users.id = sessions.user_id WHERE username = 'mel' AND kind = 'login' ORDER BY sessions.created_at DESC LIMIT 1",
        )
        .get() as { id: string };
      db.close();
      expect((await revoke(row.id, admin)).status).toBe(404);
      expect((await revoke("no-such-token", admin)).status).toBe(404);
      expect((await s.api("/api/auth/me", { token: login })).status).toBe(200);
    },
  );

  test("malformed bodies are 400 and make no token; no token at all is 401", async () => {
    const before = await list(admin);
    for (const body of [
      "{",
      "{}",
      '{"label":""}',
      '{"label":"   "}',
      `{"label":"${"x".repeat(101)}"}`,
      '{"label":"x","ttlDays":0}',
      '{"label":"x","ttlDays":3651}',
      '{"label":"x","ttlDays":1.5}',
      '{"label":"x","ttlDays":"30"}',
      '{"label":7}',
      "[]",
    ]) {
      const res = await s.api("/api/tokens", { method: "POST", token: member, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect(await list(admin)).toEqual(before);
    expect((await s.api("/api/tokens")).status).toBe(401);
    expect((await s.api("/api/tokens", { method: "POST", body: '{"label":"x"}' })).status).toBe(401);
    expect((await s.api(`/api/tokens/${before[0]!.id}`, { method: "DELETE" })).status).toBe(401);
    expect(await list(admin)).toEqual(before);
  });
});
