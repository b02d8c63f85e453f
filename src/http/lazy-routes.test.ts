import { expect, test } from "bun:test";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { createLogger } from "../logging/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { jsonResponse } from "./common-schemas.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { lazyRoutes, mountRouteGroups, type RouteGroup, uncoveredRoutes } from "./lazy-routes.ts";
import { defineRoute } from "./route-access.ts";

const logged: string[] = [];
const logger = createLogger({ level: "error", format: "json", write: (line) => logged.push(line) });

/** A group with one public GET route answering `{ from }`. */
function group(path: string, from: string) {
  const routes = new OpenAPIHono<ApiEnv>();
  const route = defineRoute({
    access: "public",
    method: "get",
    path,
    responses: { 200: jsonResponse(z.object({ from: z.string() }), "who answered") },
  });
  routes.openapi(route, (c) => c.json({ from }, 200));
  return routes;
}

function base() {
  const app = new OpenAPIHono<ApiEnv>().basePath("/api");
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  return app;
}

function mount(groups: RouteGroup[]) {
  const api = base();
  const mounted = mountRouteGroups(api, groups, base);
  const get = (path: string) =>
    api.fetch(new Request(`http://station${path}`), { remoteAddress: "127.0.0.1" });
  return { ...mounted, get };
}

test("a lazy group is built on its first request, once, and only its own", async () => {
  const loads = { things: 0, other: 0 };
  const { get } = mount([
    group("/eager", "eager"),
    lazyRoutes(["/things"], async () => {
      loads.things++;
      return group("/things/{id}", "things");
    }),
    lazyRoutes(["/other"], async () => {
      loads.other++;
      return group("/other", "other");
    }),
  ]);
  expect((await (await get("/api/eager")).json()).from).toBe("eager");
  expect(loads).toEqual({ things: 0, other: 0 });
  const answers = await Promise.all(Array.from({ length: 10 }, () => get("/api/things/7")));
  expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
  expect(loads).toEqual({ things: 1, other: 0 });
  // Within the prefix but no such route: the group's own 404, in the API's error shape.
  const missing = await get("/api/things/7/nothing");
  expect(missing.status).toBe(404);
  expect((await missing.json()).error.code).toBe("NOT_FOUND");
  // A path that only starts with the prefix's letters is not the group's.
  expect((await get("/api/thingsX")).status).toBe(404);
  expect(loads).toEqual({ things: 1, other: 0 });
});

test("a group serving a path outside its prefixes is refused, with the path named", async () => {
  const { get, loadAll } = mount([lazyRoutes(["/a"], async () => group("/b", "b"))]);
  const res = await get("/api/a");
  expect(res.status).toBe(500);
  expect((await res.json()).error.code).toBe("INTERNAL_ERROR");
  expect(loadAll()).rejects.toThrow("route group /a also serves /b");
});

test("a load that failed is tried again on the next request", async () => {
  let attempts = 0;
  const { get } = mount([
    lazyRoutes(["/flaky"], async () => {
      if (++attempts === 1) throw new Error("first load fails");
      return group("/flaky", "flaky");
    }),
  ]);
  expect((await get("/api/flaky")).status).toBe(500);
  const second = await get("/api/flaky");
  expect(second.status).toBe(200);
  expect(attempts).toBe(2);
});

test("loadAll builds every group, for the OpenAPI document and the access walk", async () => {
  const { loadAll } = mount([group("/eager", "eager"), lazyRoutes(["/x"], async () => group("/x", "x"))]);
  const loaded = await loadAll();
  expect(loaded.map((l) => [...new Set(l.routes.routes.map((r) => r.path))])).toEqual([["/eager"], ["/x"]]);
  expect(loaded[1]!.app!.routes.some((r) => r.path === "/api/x" && r.method === "GET")).toBe(true);
});

test("uncoveredRoutes: a prefix covers itself and what is below it, nothing else", () => {
  const routes = ["/devices", "/devices/:id", "/device-types", "/devicesX", "/*"].map((path) => ({ path }));
  expect(uncoveredRoutes(["/devices"], routes)).toEqual(["/device-types", "/devicesX"]);
  expect(uncoveredRoutes(["/devices", "/device-types"], routes)).toEqual(["/devicesX"]);
});
