import { OpenAPIHono } from "@hono/zod-openapi";
import type { TokenAdmin } from "../../auth/index.ts";
import { createdTokenSchema, createTokenRequestSchema, tokenListSchema } from "../../protocol/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorBodySchema, errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";
import { idParam } from "./device-schemas.ts";

const listRoute = defineRoute({
  access: "guest",
  method: "get",
  path: "/tokens",
  summary: "Long-lived access tokens: your own, or everyone's for an admin",
  responses: { 200: jsonResponse(tokenListSchema, "Tokens"), ...errorResponses },
});
const createRoute = defineRoute({
  access: "guest",
  method: "post",
  path: "/tokens",
  summary: "Make a long-lived access token for yourself (ttlDays 1..3650, default 365); shown this once",
  request: { body: jsonBody(createTokenRequestSchema) },
  responses: { 201: jsonResponse(createdTokenSchema, "Created"), ...errorResponses },
});
const revokeRoute = defineRoute({
  access: "guest",
  method: "delete",
  path: "/tokens/{id}",
  summary: "Revoke a token (your own, or any for an admin); apps using it are closed with 4003",
  request: { params: idParam },
  responses: {
    204: { description: "Revoked" },
    ...errorResponses,
    404: { description: "No such token", content: { "application/json": { schema: errorBodySchema } } },
  },
});

export function tokenRoutes(tokens: TokenAdmin) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(listRoute, async (c) => c.json({ tokens: await tokens.list(c.var.principal) }, 200));
  app.openapi(createRoute, async (c) => {
    const { label, ttlDays } = c.req.valid("json");
    return c.json(await tokens.create(c.var.principal, label, ttlDays), 201);
  });
  app.openapi(revokeRoute, async (c) => {
    await tokens.revoke(c.var.principal, c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
