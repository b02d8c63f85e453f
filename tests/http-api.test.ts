import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let ownerToken: string;
let adminToken: string;
let memberToken: string;
let guestToken: string;

beforeAll(async () => {
  s = await startTestStation();
  ownerToken = await s.userToken("olivia", "owner");
  adminToken = await s.userToken("adam", "admin");
  memberToken = await s.userToken("mia", "member");
  guestToken = await s.userToken("gus", "guest");
});
afterAll(() => s.stop());

describe("health and routing", () => {
  test("GET /api/health answers without auth", async () => {
    const res = await s.api("/api/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", stationId: s.config.stationId, mqtt: { mode: "embedded" } });
    expect(typeof body.version).toBe("string");
    expect(typeof body.uptimeMs).toBe("number");
  });

  test("unknown API routes give 404 JSON in the contract's error shape", async () => {
    const res = await s.api("/api/no/such/thing", { token: ownerToken });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  // The sign-in form itself is rendered by the app's script: tests/web-devices.test.ts signs in
  // through it in Chromium. Here: every non-API path gets the same page, which loads that script.
  test("other paths serve the web app's index.html, which loads the app", async () => {
    for (const path of ["/", "/devices/abc", "/settings", "/setup"]) {
      const res = await s.api(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const html = await res.text();
      expect(html).toContain('<main id="view">');
      expect(html).toContain('<script type="module" src="/app.js">');
    }
    const script = await s.api("/app.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("Sign in");
  });

  test("the web app is served gzipped to browsers that take it, and revalidated by ETag", async () => {
    const plain = await fetch(`${s.url}/app.js`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    const body = await plain.text();
    const etag = plain.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    const gzipped = await fetch(`${s.url}/app.js`, {
      headers: { "accept-encoding": "gzip, deflate, br" },
      decompress: false,
    } as RequestInit);
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    expect(gzipped.headers.get("vary")).toBe("accept-encoding");
    const bytes = new Uint8Array(await gzipped.arrayBuffer());
    expect(bytes.length).toBeLessThan(body.length / 2);
    expect(gunzipSync(bytes).toString("utf8")).toBe(body);
    const again = await fetch(`${s.url}/app.js`, { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const page = await fetch(`${s.url}/`, { headers: { "if-none-match": etag ?? "" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  test("OpenAPI 3.1 document is generated from the route schemas (for signed-in users)", async () => {
    expect((await s.api("/api/openapi.json")).status).toBe(401);
    const res = await s.api("/api/openapi.json", { token: guestToken });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/health", "/api/auth/login", "/api/users"]),
    );
  });
});

describe("login", () => {
  test("good credentials give a token that works", async () => {
    const res = await s.api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ username: "mia", password: "mia-password" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; expiresIn: number; user: { role: string } };
    expect(body.user).toMatchObject({ username: "mia", role: "member" });
    expect(body.expiresIn).toBeGreaterThan(3600);
    const me = await s.api("/api/auth/me", { token: body.accessToken });
    expect(((await me.json()) as { user: { username: string } }).user.username).toBe("mia");
  });

  test("wrong password and unknown user give the same 401", async () => {
    for (const body of [
      { username: "mia", password: "not-her-password" },
      { username: "nobody", password: "whatever-password" },
    ]) {
      const res = await s.api("/api/auth/login", { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: "UNAUTHORIZED", message: "wrong username or password" },
      });
    }
  });

  test("malformed JSON gives 400 PARSE_ERROR, wrong types 400 VALIDATION_ERROR", async () => {
    const bad = await s.api("/api/auth/login", { method: "POST", body: '{"username": "mia", ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("PARSE_ERROR");
    // fetch sends a string body as text/plain: only application/json is read (CONTRACT.md section 2).
    const noType = await fetch(`${s.url}/api/auth/login`, { method: "POST", body: "{oops" });
    expect(noType.status).toBe(415);
    expect(((await noType.json()) as { error: { code: string } }).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const wrong = await s.api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: 42 }) });
    expect(wrong.status).toBe(400);
    const err = ((await wrong.json()) as { error: { code: string; details: { path: string }[] } }).error;
    expect(err.code).toBe("VALIDATION_ERROR");
    expect(err.details.map((d) => d.path)).toContain("username");
  });

  test("an oversized body gives 413 PAYLOAD_TOO_LARGE", async () => {
    const body = JSON.stringify({ username: "x".repeat(100_000), password: "y" });
    const res = await s.api("/api/auth/login", { method: "POST", body });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("tokens and roles", () => {
  test("no token, a garbage token and a token signed with another secret are 401", async () => {
    expect((await s.api("/api/users")).status).toBe(401);
    expect((await s.api("/api/users", { token: "garbage" })).status).toBe(401);
    const [h, p] = ownerToken.split(".");
    expect((await s.api("/api/users", { token: `${h}.${p}.c2lnbmF0dXJl` })).status).toBe(401);
  });

  test("roles give 403 where they should", async () => {
    expect((await s.api("/api/users", { token: guestToken })).status).toBe(403);
    expect((await s.api("/api/users", { token: memberToken })).status).toBe(403);
    expect((await s.api("/api/connections", { token: memberToken })).status).toBe(403);
    const forbidden = await s.api("/api/users", { token: memberToken });
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    expect((await s.api("/api/users", { token: adminToken })).status).toBe(200);
    expect((await s.api("/api/connections", { token: adminToken })).status).toBe(200);
  });

  test("an admin creates members but only an owner creates admins", async () => {
    const asAdmin = (username: string, role: string) =>
      s.api("/api/users", {
        method: "POST",
        token: adminToken,
        body: JSON.stringify({ username, password: "long-enough-pw", role }),
      });
    expect((await asAdmin("newmember", "member")).status).toBe(201);
    expect((await asAdmin("newadmin", "admin")).status).toBe(403);
    const byOwner = await s.api("/api/users", {
      method: "POST",
      token: ownerToken,
      body: JSON.stringify({ username: "newadmin", password: "long-enough-pw", role: "admin" }),
    });
    expect(byOwner.status).toBe(201);
    const again = await s.api("/api/users", {
      method: "POST",
      token: ownerToken,
      body: JSON.stringify({ username: "newadmin", password: "long-enough-pw", role: "admin" }),
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("ALREADY_EXISTS");
  });

  test("logout revokes the session: the token is refused afterwards", async () => {
    const token = await s.login("gus");
    expect((await s.api("/api/auth/me", { token })).status).toBe(200);
    expect((await s.api("/api/auth/logout", { method: "POST", token })).status).toBe(200);
    const after = await s.api("/api/auth/me", { token });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toContain("revoked");
  });
});

describe("metrics", () => {
  test("GET /metrics from loopback gives Prometheus text", async () => {
    const res = await s.api("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain("# TYPE opengenie_devices gauge");
    expect(text).toMatch(/opengenie_uptime_seconds \d/);
    expect(text).toContain("# TYPE opengenie_device_messages_rejected_total counter");
    expect(text).toContain("# TYPE opengenie_broker_refusals_total counter");
  });
});

describe("limits and stubs", () => {
  test("a body over 1 MiB still gets the JSON PAYLOAD_TOO_LARGE error", async () => {
    const res = await s.api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ u: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  // Its own station: the limiter is per address, and the address is shared by every test here,
  // so the burst must not lock the others out of logging in, whatever order they run in.
  test("concurrent wrong logins from one address are rate limited too", async () => {
    const limited = await startTestStation();
    try {
      await limited.addUser("lia", "member");
      const attempts = await Promise.all(
        Array.from({ length: 12 }, () =>
          limited.api("/api/auth/login", {
            method: "POST",
            body: JSON.stringify({ username: "lia", password: "guess-guess" }),
          }),
        ),
      );
      // Five failures are allowed per window; each counts before the slow password check.
      const statuses = attempts.map((r) => r.status).sort();
      expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
      const refused = attempts.find((r) => r.status === 429)!;
      const body = (await refused.json()) as { error: { code: string; details: { retryAfterMs: number } } };
      expect(body.error.code).toBe("RATE_LIMITED");
      expect(body.error.details.retryAfterMs).toBeGreaterThan(0);
      expect(refused.headers.get("retry-after")).toBeTruthy();
    } finally {
      await limited.stop();
    }
  });

  test("GET /api/cloud/status says the cloud link is not configured", async () => {
    const res = await s.api("/api/cloud/status", { token: guestToken });
    expect(await res.json()).toEqual({ configured: false, connected: false, claimed: false });
    expect((await s.api("/api/cloud/status")).status).toBe(401);
  });
});
