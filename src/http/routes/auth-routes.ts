import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuthService, LoginRateLimiter } from "../../auth/index.ts";
import { MAX_PASSWORD_LENGTH, roleSchema } from "../../auth/index.ts";
import { StationError } from "../../core/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";

const loginBody = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) })
  .openapi("LoginRequest");
const userSchema = z.object({ id: z.string(), username: z.string(), role: roleSchema }).openapi("User");
const loginResult = z
  .object({ accessToken: z.string(), expiresIn: z.number().int(), user: userSchema })
  .openapi("LoginResult");

const loginRoute = defineRoute({
  access: "public",
  method: "post",
  path: "/auth/login",
  summary: "Exchange a username and password for an access token",
  request: { body: jsonBody(loginBody) },
  responses: { 200: jsonResponse(loginResult, "Signed in"), ...errorResponses },
});
const logoutRoute = defineRoute({
  access: "guest",
  method: "post",
  path: "/auth/logout",
  summary: "Revoke this token's session; its WebSockets close with 4003",
  responses: { 200: jsonResponse(z.object({ ok: z.literal(true) }), "Signed out"), ...errorResponses },
});
const meRoute = defineRoute({
  access: "guest",
  method: "get",
  path: "/auth/me",
  summary: "Who this token belongs to",
  responses: { 200: jsonResponse(z.object({ user: userSchema }), "The caller"), ...errorResponses },
});

export function authRoutes(auth: AuthService, limiter: LoginRateLimiter) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(loginRoute, async (c) => {
    const address = c.env.remoteAddress;
    const { username, password } = c.req.valid("json");
    const wait = limiter.retryAfter(address, username);
    if (wait > 0) {
      throw new StationError("RATE_LIMITED", "too many failed sign-ins; wait and try again", {
        retryAfterMs: wait,
      });
    }
    const attempt = limiter.attempt(address, username);
    const result = await auth.login(username, password);
    attempt.succeeded();
    return c.json(result, 200);
  });
  app.openapi(logoutRoute, async (c) => {
    await auth.revokeSession(c.var.principal.sessionId);
    return c.json({ ok: true as const }, 200);
  });
  app.openapi(meRoute, (c) => {
    const p = c.var.principal;
    return c.json({ user: { id: p.userId, username: p.username, role: p.role } }, 200);
  });
  return app;
}
