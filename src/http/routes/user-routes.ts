import { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthService, UserAdmin } from "../../auth/index.ts";
import { StationError } from "../../core/index.ts";
import {
  changeRoleRequestSchema,
  createUserRequestSchema,
  userBodySchema,
  userListSchema,
} from "../../protocol/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorBodySchema, errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";
import { idParam } from "./device-schemas.ts";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: errorBodySchema } },
});
const notFound = { 404: error("No such user") };
const lastOwner = { 409: error("That would leave the station without an owner") };

const listRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/users",
  summary: "List users (admin)",
  responses: { 200: jsonResponse(userListSchema, "Users"), ...errorResponses },
});
const createUserRoute = defineRoute({
  access: "admin",
  method: "post",
  path: "/users",
  summary: "Create a user (admin; only an owner creates admins and owners)",
  request: { body: jsonBody(createUserRequestSchema) },
  responses: { 201: jsonResponse(userBodySchema, "Created"), ...errorResponses },
});
const changeRoleRoute = defineRoute({
  access: "admin",
  method: "patch",
  path: "/users/{id}",
  summary: "Change a user's role (admin; only an owner gives or takes owner and admin; the last owner stays)",
  request: { params: idParam, body: jsonBody(changeRoleRequestSchema) },
  responses: { 200: jsonResponse(userBodySchema, "Changed"), ...errorResponses, ...notFound, ...lastOwner },
});
const removeRoute = defineRoute({
  access: "admin",
  method: "delete",
  path: "/users/{id}",
  summary:
    "Remove a user (admin; only an owner removes owners and admins; never the last owner): their sessions are revoked and their WebSockets close with 4003",
  request: { params: idParam },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...notFound, ...lastOwner },
});

export function userRoutes(auth: AuthService, users: UserAdmin) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(listRoute, async (c) => c.json({ users: await auth.listUsers() }, 200));
  app.openapi(createUserRoute, async (c) => {
    const body = c.req.valid("json");
    if ((body.role === "owner" || body.role === "admin") && c.var.principal.role !== "owner") {
      throw new StationError("FORBIDDEN", "only an owner can create owners and admins");
    }
    const user = await auth.createUser(body.username, body.password, body.role);
    return c.json({ user }, 201);
  });
  app.openapi(changeRoleRoute, async (c) => {
    const { id } = c.req.valid("param");
    const user = await users.changeRole(c.var.principal, id, c.req.valid("json").role);
    return c.json({ user }, 200);
  });
  app.openapi(removeRoute, async (c) => {
    await users.remove(c.var.principal, c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
