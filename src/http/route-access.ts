import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { hasRole, type Role } from "../auth/index.ts";
import { StationError } from "../core/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { bearerToken } from "./auth-guard.ts";

/** Who may call a route: a role (and every stronger one), or anyone. */
export type Access = Role | "public";

const ACCESS = Symbol("opengenie.access");

type AccessMiddleware = MiddlewareHandler<ApiEnv> & { readonly [ACCESS]: Access };

/**
 * The one guard: authenticates the bearer token and requires at least `access`; 401 without a
 * usable token, 403 below the role. It carries its access level so a test can walk every
 * registered route and find the role each one declares (tests/route-access.test.ts).
 */
export function requireAccess(access: Access): AccessMiddleware {
  const middleware: MiddlewareHandler<ApiEnv> = async (c, next) => {
    if (access === "public") return next();
    const principal = await c.var.authenticate(bearerToken(c.req.header("authorization")));
    if (!hasRole(principal.role, access)) {
      throw new StationError("FORBIDDEN", `this needs the ${access} role; you are ${principal.role}`);
    }
    c.set("principal", principal);
    await next();
  };
  return Object.assign(middleware, { [ACCESS]: access } as const);
}

/** The access a handler declares, if it is an access guard. */
export function accessOf(handler: unknown): Access | undefined {
  return typeof handler === "function" ? (handler as Partial<AccessMiddleware>)[ACCESS] : undefined;
}

const bearerSecurity = [{ bearer: [] }];

/**
 * `createRoute` with the role declared beside the path: the guard becomes the route's own
 * middleware (it runs before validation, so a stranger learns nothing about the body), and the
 * OpenAPI document says which role it needs.
 */
export function defineRoute<
  const P extends string,
  const R extends Omit<RouteConfig, "path" | "middleware" | "security"> & { path: P; access: Access },
>(config: R) {
  const { access, ...route } = config;
  return createRoute({
    ...route,
    ...(access === "public" ? {} : { security: bearerSecurity }),
    "x-opengenie-access": access,
    middleware: [requireAccess(access)] as [AccessMiddleware],
  } as Omit<R, "access"> & { path: P; middleware: [AccessMiddleware] });
}

/** Every handler registered on an app, grouped by method and path, with the access it declares. */
export function describeRouteAccess(routes: readonly { method: string; path: string; handler: unknown }[]) {
  const byRoute = new Map<string, { method: string; path: string; access?: Access }>();
  for (const r of routes) {
    // Middleware added with use() is registered for ALL methods; only real endpoints count.
    if (r.method === "ALL") continue;
    const key = `${r.method} ${r.path}`;
    const entry = byRoute.get(key) ?? { method: r.method, path: r.path };
    entry.access ??= accessOf(r.handler);
    byRoute.set(key, entry);
  }
  return [...byRoute.values()];
}
