import { OpenAPIHono } from "@hono/zod-openapi";
import { type ApiEnv, defineRoute, errorResponses, jsonResponse, validationHook } from "../http/index.ts";
import { integrationListSchema } from "../protocol/index.ts";
import type { IntegrationStore } from "./integration-store.ts";

const listRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/integrations",
  summary:
    "Home Assistant discovery settings and the integration MQTT logins (admin); made with `opengenie integration add`",
  responses: { 200: jsonResponse(integrationListSchema, "The integrations"), ...errorResponses },
});

export function integrationRoutes(deps: {
  store: IntegrationStore;
  homeAssistant: { enabled: boolean; prefix: string };
}) {
  const routes = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  routes.openapi(listRoute, async (c) =>
    c.json({ homeAssistant: deps.homeAssistant, integrations: await deps.store.list() }, 200),
  );
  return routes;
}
