import { OpenAPIHono } from "@hono/zod-openapi";
import type { StationConfig } from "../config/index.ts";
import type { Clock } from "../core/index.ts";
import { type CheckResult, runDoctorChecks } from "../doctor/index.ts";
import { type ApiEnv, defineRoute, errorResponses, jsonResponse, validationHook } from "../http/index.ts";
import type { MqttModule } from "../mqtt/index.ts";
import type { Platform } from "../platform/index.ts";
import { doctorReportSchema, type StationInfo, stationInfoSchema } from "../protocol/index.ts";
import type { StationModule } from "../station-module.ts";

export interface AdminModuleDeps {
  config: StationConfig;
  platform: Platform;
  version: string;
  clock: Clock;
  startedAt: number;
  mqtt: Pick<MqttModule, "health" | "deviceAddress">;
}

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

/** `GET /api/station` and `POST /api/doctor`, for the web app's administration and diagnostics pages. */
export function createAdminModule(deps: AdminModuleDeps) {
  const { config } = deps;
  // One run at a time: a second request while the checks run (the BLE probe takes seconds)
  // shares that run instead of starting another helper.
  let running: Promise<CheckResult[]> | undefined;
  const doctor = () => {
    running ??= runDoctorChecks(config, deps.platform).finally(() => {
      running = undefined;
    });
    return running;
  };

  const info = (): StationInfo => {
    const mqtt = deps.mqtt.health?.().mqtt ?? {
      mode: config.mqttUrl ? ("external" as const) : ("embedded" as const),
      connected: false,
    };
    const now = deps.clock.now();
    return {
      version: deps.version,
      stationId: config.stationId,
      runtime: deps.platform.runtime,
      startedAt: deps.startedAt,
      uptimeMs: now - deps.startedAt,
      mqtt: { mode: mqtt.mode, connected: mqtt.connected, ...deps.mqtt.deviceAddress() },
      remoteAccess: config.remoteAccess === "on",
    };
  };

  const routes = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  routes.openapi(stationRoute, (c) => c.json(info(), 200));
  routes.openapi(doctorRoute, async (c) => c.json({ checks: await doctor() }, 200));

  return { name: "admin", routes: [routes] } satisfies StationModule;
}
