import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuthService } from "../../auth/index.ts";
import { roleSchema } from "../../auth/index.ts";
import { StationError } from "../../core/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";

const userSchema = z
  .object({ id: z.string(), username: z.string(), role: roleSchema, createdAt: z.number() })
  .openapi("UserRecord");
const createUserBody = z
  .object({
    username: z.string().regex(/^[a-zA-Z0-9_.@-]{1,64}$/),
    password: z.string().min(8).max(1024),
    role: roleSchema,
  })
  .openapi("CreateUserRequest");

const listRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/users",
  summary: "List users (admin)",
  responses: { 200: jsonResponse(z.object({ users: z.array(userSchema) }), "Users"), ...errorResponses },
});
const createUserRoute = defineRoute({
  access: "admin",
  method: "post",
  path: "/users",
  summary: "Create a user (admin; only an owner creates admins and owners)",
  request: { body: jsonBody(createUserBody) },
  responses: { 201: jsonResponse(z.object({ user: userSchema }), "Created"), ...errorResponses },
});

export function userRoutes(auth: AuthService) {
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
  return app;
}
