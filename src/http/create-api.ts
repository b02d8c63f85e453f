import { OpenAPIHono } from "@hono/zod-openapi";
import type { RouterRoute } from "hono/types";
import type { AuthService, LoginRateLimiter, TokenAdmin, UserAdmin } from "../auth/index.ts";
import type { Logger } from "../logging/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { lazyRoutes, mountRouteGroups, type RouteGroup } from "./lazy-routes.ts";
import { requireAccess } from "./route-access.ts";
import type { ConnectionInfo } from "./routes/connection-routes.ts";
import { type Health, healthRoutes } from "./routes/health-routes.ts";

export interface ApiDeps {
  logger: Logger;
  version: string;
  auth: AuthService;
  /** Role changes and removals (PATCH and DELETE /api/users/{id}). */
  users: UserAdmin;
  /** Long-lived tokens (/api/tokens). */
  tokens: TokenAdmin;
  loginLimiter: LoginRateLimiter;
  health: () => Health;
  connections: () => ConnectionInfo[];
  /** Route groups contributed by station modules (devices, provisioning, cloud), mounted under /api. */
  routes?: readonly RouteGroup[];
}

export interface Api {
  /** The app behind `/api`. */
  readonly app: OpenAPIHono<ApiEnv>;
  /** Every route, with the lazy groups loaded: for the OpenAPI document and the access walk. */
  allRoutes(): Promise<RouterRoute[]>;
}

/**
 * The Hono app behind `/api`, built from zod-openapi routes so the OpenAPI document is generated.
 * Only `/api/health` is built at start; every other group is built on its first request
 * (lazy-routes.ts), and the OpenAPI document loads them all.
 */
export function createApi(deps: ApiDeps): Api {
  const onError = createErrorHandler(deps.logger);
  /** An app with what every route relies on: the /api base, the token check, the error shapes. */
  const base = () => {
    const app = new OpenAPIHono<ApiEnv>().basePath("/api");
    // Registered before any route, so every route's own access guard can authenticate.
    app.use("*", async (c, next) => {
      c.set("authenticate", (token) => deps.auth.authenticate(token));
      await next();
    });
    app.onError(onError);
    app.notFound(notFoundHandler);
    return app;
  };

  const api = base();
  const groups: RouteGroup[] = [
    healthRoutes(deps.health),
    lazyRoutes(["/auth"], async () =>
      (await import("./routes/auth-routes.ts")).authRoutes(deps.auth, deps.loginLimiter),
    ),
    lazyRoutes(["/users"], async () =>
      (await import("./routes/user-routes.ts")).userRoutes(deps.auth, deps.users),
    ),
    lazyRoutes(["/tokens"], async () => (await import("./routes/token-routes.ts")).tokenRoutes(deps.tokens)),
    lazyRoutes(["/connections"], async () =>
      (await import("./routes/connection-routes.ts")).connectionRoutes(deps.connections),
    ),
    ...(deps.routes ?? []),
  ];

  const { loadAll } = mountRouteGroups(api, groups, base);

  let document: Promise<unknown> | undefined;
  // Every endpoint but /api/health and sign-in needs a token, the API description included.
  api.get("/openapi.json", requireAccess("guest"), async (c) => {
    document ??= loadAll().then((loaded) => {
      const doc = new OpenAPIHono<ApiEnv>().basePath("/api");
      doc.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
      for (const { routes } of loaded) doc.route("/", routes);
      return doc.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "OpenGenie Station API", version: deps.version },
      });
    });
    // Built once; a failure (a group that would not load) is tried again on the next request.
    document.catch(() => {
      document = undefined;
    });
    return c.json(await document);
  });

  return {
    app: api,
    async allRoutes() {
      const loaded = await loadAll();
      return [...api.routes, ...loaded.flatMap(({ app }) => app?.routes ?? [])];
    },
  };
}
