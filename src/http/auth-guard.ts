import type { MiddlewareHandler } from "hono";
import { type AuthService, hasRole, type Role } from "../auth/index.ts";
import { StationError } from "../core/index.ts";
import type { ApiEnv } from "./api-env.ts";

export function bearerToken(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1];
}

/** Authenticates the bearer token and requires at least `role`; 401 without one, 403 below it. */
export function createAuthGuard(auth: AuthService) {
  return (role: Role): MiddlewareHandler<ApiEnv> =>
    async (c, next) => {
      const principal = await auth.authenticate(bearerToken(c.req.header("authorization")));
      if (!hasRole(principal.role, role)) {
        throw new StationError("FORBIDDEN", `this needs the ${role} role; you are ${principal.role}`);
      }
      c.set("principal", principal);
      await next();
    };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;
