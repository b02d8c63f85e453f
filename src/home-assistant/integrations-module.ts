import { OpenAPIHono } from "@hono/zod-openapi";
import { type ApiEnv, defineRoute, errorResponses, jsonResponse, validationHook } from "../http/index.ts";
import { integrationListSchema } from "../protocol/index.ts";
import type { StationModule } from "../station-module.ts";
import type { IntegrationStore } from "./integration-store.ts";

const listRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/integrations",
  summary:
    "Home Assistant discovery settings and the integration MQTT logins (admin); made with `opengenie integration add`",
  responses: { 200: jsonResponse(integrationListSchema, "The integrations"), ...errorResponses },
});

/** `GET /api/integrations`, for the web app's station page (read-only: logins are made with the CLI). */
export function createIntegrationsModule(deps: {
  store: IntegrationStore;
  homeAssistant: { enabled: boolean; prefix: string };
}): StationModule {
  const routes = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  routes.openapi(listRoute, async (c) =>
    c.json({ homeAssistant: deps.homeAssistant, integrations: await deps.store.list() }, 200),
  );
  return { name: "integrations", routes: [routes] };
}
