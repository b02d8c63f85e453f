import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/core/index.ts";
import { CLOCK_ONLY_IN_PROCESS, describeBunOnly } from "./helpers/station-runtime.ts";
import { READS_SQLITE_FILE, sqliteOnly } from "./helpers/test-database.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";
import { openSocket, upgradeStatus } from "./helpers/ws-client.ts";

let s: TestStation;
let token: string;

beforeAll(async () => {
  s = await startTestStation();
  token = await s.userToken("ann", "member");
});
afterAll(() => s.stop());

describe("/ws authentication", () => {
  test("token in the query: welcome frame first", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    const welcome = await sock.next();
    expect(welcome).toMatchObject({
      type: "welcome",
      protocol: "opengenie.v1",
      stationId: s.config.stationId,
      user: { role: "member" },
    });
    expect(typeof welcome.serverTime).toBe("number");
    sock.close();
  });

  test("token as subprotocol: the server selects opengenie.v1", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws`, ["opengenie.v1", `opengenie.bearer.${token}`]);
    expect(sock.ws.protocol).toBe("opengenie.v1");
    expect((await sock.next()).type).toBe("welcome");
    const who = await sock.request("auth.whoami");
    expect(who).toMatchObject({ type: "result", data: { user: { username: "ann", role: "member" } } });
    sock.close();
  });

  test("missing or bad token: HTTP 401 before the upgrade", async () => {
    expect(await upgradeStatus(`${s.url}/ws`)).toBe(401);
    expect(await upgradeStatus(`${s.url}/ws?token=nope`)).toBe(401);
    expect(
      await upgradeStatus(`${s.url}/ws`, { "sec-websocket-protocol": "opengenie.v1, opengenie.bearer.bad" }),
    ).toBe(401);
    expect(await upgradeStatus(`${s.url}/ws?token=${token}`)).toBe(101);
  });

  test("logout closes the session's sockets with 4003 and the token no longer upgrades", async () => {
    const own = await s.login("ann");
    const sock = await openSocket(`${s.wsUrl}/ws?token=${own}`);
    await sock.next();
    const res = await s.api("/api/auth/logout", { method: "POST", token: own });
    expect(res.status).toBe(200);
    expect((await sock.closed).code).toBe(4003);
    expect(await upgradeStatus(`${s.url}/ws?token=${own}`)).toBe(401);
  });
});

describe("/ws frames", () => {
  test("unparseable frame: PARSE_ERROR with id null, and the socket stays usable", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    sock.ws.send("{not json");
    expect(await sock.next()).toMatchObject({ id: null, type: "error", code: "PARSE_ERROR" });
    sock.ws.send(JSON.stringify({ type: "ping" }));
    expect(await sock.next()).toMatchObject({ id: null, type: "error", code: "PARSE_ERROR" });
    const pong = await sock.request("ping");
    expect(pong.type).toBe("result");
    expect(typeof (pong.data as { pong: number }).pong).toBe("number");
    sock.close();
  });

  test("unknown operation gives UNKNOWN_OPERATION with the request id", async () => {
    const sock = await openSocket(`${s.wsUrl}/ws?token=${token}`);
    await sock.next();
    expect(await sock.request("no.such.op")).toMatchObject({ type: "error", code: "UNKNOWN_OPERATION" });
    sock.close();
  });
});

describeBunOnly(CLOCK_ONLY_IN_PROCESS)("token expiry (injected clock)", () => {
  test("an expired token is refused over HTTP and WebSocket, and an open socket is closed with 4003", async () => {
    const clock = createManualClock(Date.now());
    const t = await startTestStation({ clock });
    try {
      await t.addUser("eve", "guest");
      const created = await cli(t.dataDir, ["token", "create", "--user", "eve", "--ttl", "20s"]);
      const tok = created.stdout.trim();
      const sock = await openSocket(`${t.wsUrl}/ws?token=${tok}`);
      await sock.next();
      expect((await t.api("/api/auth/me", { token: tok })).status).toBe(200);
      clock.advance(21_000);
      const res = await t.api("/api/auth/me", { token: tok });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("expired");
      expect(await upgradeStatus(`${t.url}/ws?token=${tok}`)).toBe(401);
      expect((await sock.closed).code).toBe(4003);
    } finally {
      await t.stop();
    }
  });
});

test("a socket opened with a 30-day token stays open (no early expiry)", async () => {
  const s2 = await startTestStation();
  try {
    await s2.addUser("longlived", "member");
    const tok = (
      await cli(s2.dataDir, ["token", "create", "--user", "longlived", "--ttl", "30d"])
    ).stdout.trim();
    const sock = await openSocket(`${s2.wsUrl}/ws?token=${tok}`);
    await sock.next();
    // The bug was real time, not clock time: a 30-day delay overflows setTimeout, which then fires
    // after 1 ms. A negative has no event to wait for; these 100 ms are the window it would show in.
    await Bun.sleep(100);
    expect((await sock.request("ping")).type).toBe("result");
    sock.close();
  } finally {
    await s2.stop();
  }
});

sqliteOnly(READS_SQLITE_FILE)("the session's last-seen time is recorded when its socket closes", async () => {
  const s3 = await startTestStation();
  try {
    const tok = await s3.userToken("seen", "guest");
    const sock = await openSocket(`${s3.wsUrl}/ws?token=${tok}`);
    await sock.next();
    const before = Date.now();
    sock.close();
    await sock.closed;
    const { Database } = await import("bun:sqlite");
    const read = () => {
      const db = new Database(`${s3.dataDir}/opengenie.db`, { readonly: true });
      try {
        return db.query("SELECT last_seen_at FROM sessions WHERE last_seen_at IS NOT NULL").all() as {
          last_seen_at: number;
        }[];
      } finally {
        db.close();
      }
    };
    await waitFor(() => read().length > 0, 5000, "a session with its last-seen time in the database");
    const rows = read();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.last_seen_at).toBeGreaterThanOrEqual(before - 1000);
  } finally {
    await s3.stop();
  }
});
