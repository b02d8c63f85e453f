import { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthService, LoginRateLimiter } from "../auth/index.ts";
import type { Logger } from "../logging/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { type AuthGuard, createAuthGuard } from "./auth-guard.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { authRoutes } from "./routes/auth-routes.ts";
import { type ConnectionInfo, connectionRoutes } from "./routes/connection-routes.ts";
import { type Health, healthRoutes } from "./routes/health-routes.ts";
import { userRoutes } from "./routes/user-routes.ts";

export interface ApiDeps {
  logger: Logger;
  version: string;
  auth: AuthService;
  loginLimiter: LoginRateLimiter;
  health: () => Health;
  connections: () => ConnectionInfo[];
  /** Further route groups from other domains (devices, provisioning, cloud), mounted under /api. */
  extraRoutes?: ((guard: AuthGuard) => OpenAPIHono<ApiEnv>)[];
}

/** The Hono app behind `/api`, built from zod-openapi routes so the OpenAPI document is generated. */
export function createApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const guard = createAuthGuard(deps.auth);
  const api = new OpenAPIHono<ApiEnv>().basePath("/api");
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  api.route("/", healthRoutes(deps.health));
  api.route("/", authRoutes(deps.auth, deps.loginLimiter, guard));
  api.route("/", userRoutes(deps.auth, guard));
  api.route("/", connectionRoutes(deps.connections, guard));
  for (const extra of deps.extraRoutes ?? []) api.route("/", extra(guard));
  // Every endpoint but /api/health needs a token, the API description included.
  api.use("/openapi.json", guard("guest"));
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "OpenGenie Station API", version: deps.version },
  });
  api.onError(createErrorHandler(deps.logger));
  api.notFound(notFoundHandler);
  return api;
}
