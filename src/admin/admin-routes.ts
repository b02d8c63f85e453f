import { OpenAPIHono } from "@hono/zod-openapi";
import type { CheckResult } from "../doctor/index.ts";
import { type ApiEnv, defineRoute, errorResponses, jsonResponse, validationHook } from "../http/index.ts";
import { doctorReportSchema, type StationInfo, stationInfoSchema } from "../protocol/index.ts";

const stationRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/station",
  summary:
    "Station facts (admin): version, runtime, uptime, remote access, and the MQTT broker address devices are given",
  responses: { 200: jsonResponse(stationInfoSchema, "The station"), ...errorResponses },
});
const doctorRoute = defineRoute({
  access: "admin",
  method: "post",
  path: "/doctor",
  summary: "Run the checks `opengenie doctor` runs, on the station itself (admin); takes a few seconds",
  responses: { 200: jsonResponse(doctorReportSchema, "Each check with its fix"), ...errorResponses },
});

export function adminRoutes(deps: { info(): StationInfo; doctor(): Promise<CheckResult[]> }) {
  const routes = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  routes.openapi(stationRoute, (c) => c.json(deps.info(), 200));
  routes.openapi(doctorRoute, async (c) => c.json({ checks: await deps.doctor() }, 200));
  return routes;
}
