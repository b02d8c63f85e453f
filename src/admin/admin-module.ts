import type { StationConfig } from "../config/index.ts";
import type { Clock } from "../core/index.ts";
import { type CheckResult, runDoctorChecks } from "../doctor/index.ts";
import { lazyRoutes } from "../http/index.ts";
import type { MqttModule } from "../mqtt/index.ts";
import type { Platform } from "../platform/index.ts";
import type { StationInfo } from "../protocol/index.ts";
import type { StationModule } from "../station-module.ts";

export interface AdminModuleDeps {
  config: StationConfig;
  platform: Platform;
  version: string;
  clock: Clock;
  startedAt: number;
  mqtt: Pick<MqttModule, "health" | "deviceAddress">;
}

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

  return {
    name: "admin",
    routes: [
      lazyRoutes(["/station", "/doctor"], async () =>
        (await import("./admin-routes.ts")).adminRoutes({ info, doctor }),
      ),
    ],
  } satisfies StationModule;
}
