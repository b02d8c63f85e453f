import { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthService, LoginRateLimiter, TokenAdmin, UserAdmin } from "../auth/index.ts";
import type { Logger } from "../logging/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { requireAccess } from "./route-access.ts";
import { authRoutes } from "./routes/auth-routes.ts";
import { type ConnectionInfo, connectionRoutes } from "./routes/connection-routes.ts";
import { type Health, healthRoutes } from "./routes/health-routes.ts";
import { tokenRoutes } from "./routes/token-routes.ts";
import { userRoutes } from "./routes/user-routes.ts";

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
  routes?: readonly OpenAPIHono<ApiEnv>[];
}

/** The Hono app behind `/api`, built from zod-openapi routes so the OpenAPI document is generated. */
export function createApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const api = new OpenAPIHono<ApiEnv>().basePath("/api");
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // Registered before any route, so every route's own access guard can authenticate.
  api.use("*", async (c, next) => {
    c.set("authenticate", (token) => deps.auth.authenticate(token));
    await next();
  });
  api.route("/", healthRoutes(deps.health));
  api.route("/", authRoutes(deps.auth, deps.loginLimiter));
  api.route("/", userRoutes(deps.auth, deps.users));
  api.route("/", tokenRoutes(deps.tokens));
  api.route("/", connectionRoutes(deps.connections));
  for (const routes of deps.routes ?? []) api.route("/", routes);
  // Every endpoint but /api/health and sign-in needs a token, the API description included.
  api.get("/openapi.json", requireAccess("guest"), (c) =>
    c.json(
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "OpenGenie Station API", version: deps.version },
      }),
    ),
  );
  api.onError(createErrorHandler(deps.logger));
  api.notFound(notFoundHandler);
  return api;
}
