import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hasRole, type Role, roles } from "../src/auth/index.ts";
import { type Access, describeRouteAccess, type HttpModule } from "../src/http/index.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

// Roles are declared where each route and /ws operation is declared (defineRoute, Operation.role),
// checked by one guard. This walks everything the running station registered, so a route added
// without a role, or guarded by the wrong one, fails here.
let s: TestStation;
const tokens = {} as Record<Role, string>;
beforeAll(async () => {
  s = await startTestStation();
  for (const role of roles) tokens[role] = await s.userToken(`walker-${role}`, role);
});
afterAll(() => s.stop());

function httpModule(): HttpModule {
  const http = s.station.modules.find((m) => m.name === "http");
  if (!http) throw new Error("the station has no http module");
  return http as HttpModule;
}

/** Every route, the groups built on first request included (it builds them). */
async function registeredRoutes() {
  return describeRouteAccess(await httpModule().api.allRoutes());
}

const concrete = (path: string) => path.replace(/:[^/]+/g, "x");

// Who may call what, as CONTRACT.md section 2 assigns it: guest reads, member commands devices,
// admin manages devices, users and provisioning. A new route or operation is added here too.
const expectedRoutes: Record<string, Access> = {
  "GET /api/health": "public",
  "POST /api/auth/login": "public",
  "POST /api/auth/logout": "guest",
  "GET /api/auth/me": "guest",
  "GET /api/openapi.json": "guest",
  "GET /api/users": "admin",
  "POST /api/users": "admin",
  "PATCH /api/users/:id": "admin",
  "DELETE /api/users/:id": "admin",
  "GET /api/tokens": "guest",
  "POST /api/tokens": "guest",
  "DELETE /api/tokens/:id": "guest",
  "GET /api/setup": "public",
  "POST /api/setup": "public",
  "GET /api/station": "admin",
  "POST /api/doctor": "admin",
  "GET /api/integrations": "admin",
  "GET /api/connections": "admin",
  "GET /api/device-types": "guest",
  "GET /api/devices": "guest",
  "POST /api/devices": "admin",
  "GET /api/devices/:id": "guest",
  "PATCH /api/devices/:id": "admin",
  "DELETE /api/devices/:id": "admin",
  "POST /api/devices/:id/commands": "member",
  "GET /api/devices/:id/events": "guest",
  "POST /api/provisioning/add": "admin",
  "GET /api/provisioning/candidates": "admin",
  "GET /api/cloud/status": "guest",
  "GET /api/drivers": "admin",
  "POST /api/drivers/:driverKey/token": "admin",
  "DELETE /api/drivers/:driverKey/token": "admin",
  "GET /api/automations": "member",
  "POST /api/automations": "admin",
  "GET /api/automations/:id": "member",
  "PATCH /api/automations/:id": "admin",
  "DELETE /api/automations/:id": "admin",
  "POST /api/automations/:id/run": "member",
  "GET /api/automations/:id/runs": "member",
};
const expectedOperations: Record<string, Role> = {
  ping: "guest",
  "auth.whoami": "guest",
  subscribe: "guest",
  unsubscribe: "guest",
  "devices.list": "guest",
  "devices.get": "guest",
  "devices.command": "member",
  "events.query": "guest",
};

describe("every HTTP route", () => {
  test("declares who may call it", async () => {
    const routes = await registeredRoutes();
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual([]);
    expect(Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.access]))).toEqual(
      expectedRoutes,
    );
  });

  test("refuses a request without a token, and one from a weaker role, before anything else", async () => {
    for (const route of await registeredRoutes()) {
      if (route.access === "public" || route.access === undefined) continue;
      const path = concrete(route.path);
      const init = { method: route.method, ...(route.method === "GET" ? {} : { body: "{}" }) };
      const anonymous = await s.api(path, init);
      expect({ route: `${route.method} ${path}`, status: anonymous.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 401,
      });
      for (const role of roles) {
        // Signing out revokes the token it is given: spend a fresh one on it.
        const token = path === "/api/auth/logout" ? await s.login(`walker-${role}`) : tokens[role];
        const res = await s.api(path, { ...init, token });
        const allowed = hasRole(role, route.access);
        // Allowed callers get past the guard: whatever the handler says, it is not 401/403.
        expect({ route: `${route.method} ${path}`, role, refused: res.status === 403 }).toEqual({
          route: `${route.method} ${path}`,
          role,
          refused: !allowed,
        });
        expect(res.status).not.toBe(401);
      }
    }
  });
});

describe("every /ws operation", () => {
  const operations = () => s.station.modules.flatMap((m) => m.operations ?? []);

  test("declares a role, and no two modules claim one type", () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(5);
    expect(new Set(all.map((op) => op.type)).size).toBe(all.length);
    expect(Object.fromEntries(all.map((op) => [op.type, op.role]))).toEqual(expectedOperations);
  });

  test("refuses a weaker role with FORBIDDEN and lets a strong enough one past the guard", async () => {
    for (const role of roles) {
      const socket = await openSocket(`${s.wsUrl}/ws?token=${tokens[role]}`);
      try {
        await socket.next(); // welcome
        for (const op of operations()) {
          const reply = await socket.request(op.type, {});
          const forbidden = reply.type === "error" && reply.code === "FORBIDDEN";
          expect({ type: op.type, role, forbidden }).toEqual({
            type: op.type,
            role,
            forbidden: !hasRole(role, op.role),
          });
        }
      } finally {
        socket.close();
      }
    }
  });
});

test("every socket endpoint and plain endpoint says who may connect", () => {
  const sockets = s.station.modules.flatMap((m) => m.sockets ?? []);
  expect(sockets.map((e) => `${e.path} ${e.access}`).sort()).toEqual([
    "/driver driver",
    "/ws guest",
    "/ws/iot device",
    "/ws/modules module token",
  ]);
  const endpoints = s.station.modules.flatMap((m) => m.endpoints ?? []);
  for (const e of endpoints) expect(e.access.length).toBeGreaterThan(0);
});
