import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { addDevice } from "./helpers/devices.ts";
import { rawRequest } from "./helpers/raw-http.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket, type TestSocket } from "./helpers/ws-client.ts";

// Issue 9, findings 7, 8, 10, 13 and 14, each reproduced over real sockets.
let s: TestStation;
let guest: string;
let member: string;
let admin: string;
beforeAll(async () => {
  s = await startTestStation({ env: { OPENGENIE_ALLOWED_HOSTS: "hub.example.net, other.example" } });
  guest = await s.userToken("gus", "guest");
  member = await s.userToken("meg", "member");
  admin = await s.userToken("ada", "admin");
});
afterAll(() => s.stop());

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error;

/** The raw response to `head` sent as-is on a TCP socket (for Host headers fetch will not send). */
function rawExchange(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(s.url).port), "127.0.0.1", () => socket.write(head));
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe("Host header (DNS rebinding)", () => {
  test("a foreign name is refused with 403 naming OPENGENIE_ALLOWED_HOSTS, on every path", async () => {
    for (const path of ["/api/health", "/api/devices", "/", "/ws"]) {
      const res = await rawRequest(`${s.url}${path}`, {
        headers: { host: `attacker.example:${new URL(s.url).port}` },
      });
      expect(res.status).toBe(403);
      const error = errorOf(res.body);
      expect(error.code).toBe("FORBIDDEN");
      expect(error.message).toContain("OPENGENIE_ALLOWED_HOSTS");
    }
  });

  test("IP literals, localhost, .local names and the allowed names get through", async () => {
    const port = new URL(s.url).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      "localhost",
      "opengenie.local:80",
      "HUB.example.net",
      "other.example",
    ]) {
      const res = await rawRequest(`${s.url}/api/health`, { headers: { host } });
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  test("a missing or malformed Host is a 400 with the JSON error, not a 500 with a stack trace", async () => {
    const before = s.logger.lines.length;
    for (const head of [
      "GET /api/health HTTP/1.0\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nHost: a b c\r\nConnection: close\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nHost: evil/x\r\nConnection: close\r\n\r\n",
    ]) {
      const response = await rawExchange(head);
      // An HTTP/1.0 request may be answered in 1.0 (Deno does, Bun answers 1.1).
      expect(response).toMatch(/^HTTP\/1\.[01] 400 /);
      const body = response.slice(response.indexOf("\r\n\r\n") + 4);
      expect(errorOf(body).code).toBe("VALIDATION_ERROR");
      expect(body).not.toContain("at ");
    }
    const logged = s.logger.lines.slice(before).join("\n");
    expect(logged).not.toContain("stack");
  });
});

describe("/ws sockets", () => {
  test("a client offering only the bearer subprotocol is refused and never sees its token echoed", async () => {
    const res = await rawRequest(`${s.url}/ws`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": btoa("0123456789abcdef"),
        "sec-websocket-protocol": `opengenie.bearer.${guest}`,
      },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.headers)).not.toContain(guest);
    expect(errorOf(res.body).message).toContain("opengenie.v1");
  });

  test("at most 64 open sockets per user; the 65th is refused with 429 before the upgrade", async () => {
    const token = await s.userToken("many", "guest");
    const sockets: TestSocket[] = [];
    try {
      for (let i = 0; i < 64; i++) sockets.push(await openSocket(`${s.wsUrl}/ws?token=${token}`));
      const refused = await rawRequest(`${s.url}/ws?token=${token}`, {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": btoa("0123456789abcdef"),
        },
      });
      expect(refused.status).toBe(429);
      expect(errorOf(refused.body).code).toBe("RATE_LIMITED");
      // Another user is not affected, and closing one frees a place.
      const other = await openSocket(`${s.wsUrl}/ws?token=${member}`);
      other.close();
      const first = sockets.shift()!;
      first.close();
      await first.closed;
      let again: TestSocket | undefined;
      for (let tries = 0; !again && tries < 50; tries++) {
        again = await openSocket(`${s.wsUrl}/ws?token=${token}`).catch(() => undefined);
        if (!again) await Bun.sleep(20);
      }
      expect(again).toBeDefined();
      sockets.push(again!);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  test("one user's sockets share one request budget", async () => {
    const token = await s.userToken("burst", "guest");
    const sockets = await Promise.all(
      Array.from({ length: 4 }, () => openSocket(`${s.wsUrl}/ws?token=${token}`)),
    );
    try {
      for (const socket of sockets) await socket.next(); // welcome
      // 50 requests on each socket stay under the per-socket burst (60) but not the user's (120).
      const replies = await Promise.all(
        sockets.map((socket) => Promise.all(Array.from({ length: 50 }, () => socket.request("ping")))),
      );
      const limited = replies.flat().filter((r) => r.type === "error" && r.code === "RATE_LIMITED");
      expect(limited.length).toBeGreaterThan(40);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe("device commands that can brick a device", () => {
  test("factory_reset and ota_update need the admin role, over HTTP and /ws", async () => {
    const { device } = await addDevice(s, admin, "Hall", "light");
    for (const [action, params] of [
      ["factory_reset", undefined],
      ["ota_update", { url: "https://firmware.example/hall.bin" }],
    ] as const) {
      const http = await s.api(`/api/devices/${device.id}/commands`, {
        method: "POST",
        token: member,
        body: JSON.stringify({ action, ...(params ? { params } : {}) }),
      });
      expect({ action, status: http.status }).toEqual({ action, status: 403 });
      const socket = await openSocket(`${s.wsUrl}/ws?token=${member}`);
      await socket.next();
      const reply = await socket.request("devices.command", {
        id: device.id,
        action,
        ...(params ? { params } : {}),
      });
      socket.close();
      expect({ action, code: reply.code }).toEqual({ action, code: "FORBIDDEN" });
    }
    // A member still turns the light on (it is offline, so the device core answers 409).
    const on = await s.api(`/api/devices/${device.id}/commands`, {
      method: "POST",
      token: member,
      body: JSON.stringify({ action: "turn_on" }),
    });
    expect(on.status).toBe(409);
  });

  test("ota_update takes only an https:// URL", async () => {
    const { device } = await addDevice(s, admin, "Porch", "light");
    for (const url of [
      "file:///etc/shadow",
      "javascript:alert(1)",
      "http://firmware.example/x.bin",
      "ftp://x/y",
    ]) {
      const res = await s.api(`/api/devices/${device.id}/commands`, {
        method: "POST",
        token: admin,
        body: JSON.stringify({ action: "ota_update", params: { url } }),
      });
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
    }
    const https = await s.api(`/api/devices/${device.id}/commands`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "ota_update", params: { url: "https://firmware.example/x.bin" } }),
    });
    expect(https.status).toBe(409); // valid; the device is offline
  });
});
