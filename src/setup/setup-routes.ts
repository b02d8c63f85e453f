import { OpenAPIHono } from "@hono/zod-openapi";
import {
  type ApiEnv,
  defineRoute,
  errorBodySchema,
  jsonBody,
  jsonResponse,
  validationHook,
} from "../http/index.ts";
import { setupRequestSchema, setupResultSchema, setupStatusSchema } from "../protocol/index.ts";
import type { SetupService } from "./setup-service.ts";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: errorBodySchema } },
});

const statusRoute = defineRoute({
  access: "public",
  method: "get",
  path: "/setup",
  summary: "Whether the station still waits for its first account (no user exists)",
  responses: { 200: jsonResponse(setupStatusSchema, "Setup status") },
});
const setupRoute = defineRoute({
  access: "public",
  method: "post",
  path: "/setup",
  summary:
    "Create the owner with the one-time setup code `serve` printed (also in <data-dir>/setup-code); only while no user exists",
  request: { body: jsonBody(setupRequestSchema) },
  responses: {
    201: jsonResponse(setupResultSchema, "The owner"),
    400: error("Malformed body"),
    403: error("Wrong or missing setup code"),
    409: error("A user already exists"),
    429: error("Too many wrong codes; details.retryAfterMs"),
  },
});

export function setupRoutes(setup: SetupService) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(statusRoute, async (c) => c.json({ required: await setup.required() }, 200));
  app.openapi(setupRoute, async (c) => {
    const user = await setup.createOwner(c.req.valid("json"), c.env.remoteAddress);
    return c.json({ user }, 201);
  });
  return app;
}
