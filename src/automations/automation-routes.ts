import { OpenAPIHono, z } from "@hono/zod-openapi";
import {
  type ApiEnv,
  defineRoute,
  errorBodySchema,
  errorResponses,
  jsonBody,
  jsonResponse,
  validationHook,
} from "../http/index.ts";
import {
  automationBodySchema,
  automationInputSchema,
  automationListSchema,
  automationPatchSchema,
  automationRunListSchema,
  automationRunStartedSchema,
} from "../protocol/index.ts";
import type { AutomationService } from "./automation-service.ts";

const idParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

const notFound = {
  404: { description: "No such automation", content: { "application/json": { schema: errorBodySchema } } },
};

const routes = {
  list: defineRoute({
    access: "member",
    method: "get",
    path: "/automations",
    summary: "All automations (member)",
    responses: { 200: jsonResponse(automationListSchema, "Automations"), ...errorResponses },
  }),
  create: defineRoute({
    access: "admin",
    method: "post",
    path: "/automations",
    summary: "Create an automation (admin); unknown devices or commands are refused",
    request: { body: jsonBody(automationInputSchema) },
    responses: {
      201: jsonResponse(automationBodySchema, "Created"),
      409: {
        description: "The station keeps its maximum number of automations",
        content: { "application/json": { schema: errorBodySchema } },
      },
      ...errorResponses,
    },
  }),
  get: defineRoute({
    access: "member",
    method: "get",
    path: "/automations/{id}",
    summary: "One automation (member)",
    request: { params: idParam },
    responses: { 200: jsonResponse(automationBodySchema, "The automation"), ...errorResponses, ...notFound },
  }),
  update: defineRoute({
    access: "admin",
    method: "patch",
    path: "/automations/{id}",
    summary: "Change an automation (admin); `enabled: true` also lifts a suspension",
    request: { params: idParam, body: jsonBody(automationPatchSchema) },
    responses: { 200: jsonResponse(automationBodySchema, "Changed"), ...errorResponses, ...notFound },
  }),
  remove: defineRoute({
    access: "admin",
    method: "delete",
    path: "/automations/{id}",
    summary: "Delete an automation and its runs (admin)",
    request: { params: idParam },
    responses: {
      200: jsonResponse(z.object({ ok: z.literal(true), automationId: z.string() }), "Deleted"),
      ...errorResponses,
      ...notFound,
    },
  }),
  run: defineRoute({
    access: "member",
    method: "post",
    path: "/automations/{id}/run",
    summary: "Run an automation's actions now (member), skipping its conditions",
    request: { params: idParam },
    responses: {
      202: jsonResponse(automationRunStartedSchema, "Started, queued or skipped by its mode"),
      409: { description: "Disabled", content: { "application/json": { schema: errorBodySchema } } },
      429: {
        description: "Run too often within the last minute (RATE_LIMITED)",
        content: { "application/json": { schema: errorBodySchema } },
      },
      ...errorResponses,
      ...notFound,
    },
  }),
  runs: defineRoute({
    access: "member",
    method: "get",
    path: "/automations/{id}/runs",
    summary: "The latest runs, newest first: trigger, each action's outcome and timing (member)",
    request: { params: idParam },
    responses: { 200: jsonResponse(automationRunListSchema, "Runs"), ...errorResponses, ...notFound },
  }),
};

/** `/api/automations…` (CONTRACT.md section 2): admin changes, member reads and runs. */
export function automationRoutes(service: AutomationService) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(routes.list, (c) => c.json({ automations: service.list() }, 200));
  app.openapi(routes.create, async (c) =>
    c.json({ automation: await service.create(c.req.valid("json")) }, 201),
  );
  app.openapi(routes.get, (c) => c.json({ automation: service.get(c.req.valid("param").id) }, 200));
  app.openapi(routes.update, async (c) =>
    c.json({ automation: await service.update(c.req.valid("param").id, c.req.valid("json")) }, 200),
  );
  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid("param");
    await service.remove(id);
    return c.json({ ok: true as const, automationId: id }, 200);
  });
  app.openapi(routes.run, (c) => {
    const { id } = c.req.valid("param");
    return c.json({ automationId: id, ...service.run(id, c.var.principal.userId) }, 202);
  });
  app.openapi(routes.runs, async (c) => c.json({ runs: await service.runs(c.req.valid("param").id) }, 200));
  return app;
}
