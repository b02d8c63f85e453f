import type { ModulesPolicy } from "../config/index.ts";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import { type StationModule, socketEndpoint } from "../station-module.ts";
import { createModuleHub } from "./module-hub.ts";
import { DEFAULT_MODULE_HUB_LIMITS, type ModuleHubLimits } from "./module-hub-limits.ts";
import { createStationAsModule, STATION_MODULE_NAME } from "./station-as-module.ts";

export interface ModuleHubModuleDeps {
  stationId: string;
  version: string;
  bus: EventBus<StationEvents>;
  devices: Pick<DeviceService, "commands">;
  clock: Clock;
  logger: Logger;
  /** `AUTHENTICATION_TOKEN` (config `modulesToken`). */
  token?: string;
  /** `OPENGENIE_MODULES_POLICY` (config `modulesPolicy`). */
  policy?: ModulesPolicy;
  /** `OPENGENIE_MODULES_COMMANDS` (config `modulesCommands`). */
  commands: "on" | "off";
  limits?: Partial<ModuleHubLimits>;
}

/**
 * `/ws/modules` (CONTRACT.md section 4, docs/modules.md): assistants, automations and UIs join
 * as AIRI modules, and the station is one of them (`opengenie`), so they hear device changes.
 */
export function createModuleHubModule(deps: ModuleHubModuleDeps) {
  const limits = { ...DEFAULT_MODULE_HUB_LIMITS, ...deps.limits };
  const station = createStationAsModule({
    hub: () => hub,
    bus: deps.bus,
    devices: deps.devices,
    commands: deps.commands,
    commandsInFlight: limits.commandsInFlight,
    logger: deps.logger,
  });
  const hub = createModuleHub({
    clock: deps.clock,
    logger: deps.logger,
    token: deps.token,
    policy: deps.policy,
    station: {
      name: STATION_MODULE_NAME,
      identity: { plugin: STATION_MODULE_NAME, instanceId: deps.stationId, version: deps.version },
    },
    onStationEvent: (event, from) => station.onEvent(event, from),
    limits,
  });
  const { counters } = hub;
  return {
    name: "module-hub",
    sockets: [
      socketEndpoint({
        path: "/ws/modules",
        kind: "module",
        access: "module token",
        upgrade: hub.upgrade,
        handlers: hub.handlers,
      }),
    ],
    metrics: [
      {
        name: "opengenie_module_connections",
        help: "Open /ws/modules connections, by whether they authenticated",
        type: "gauge",
        labelNames: ["authenticated"],
        read: () =>
          [true, false].map((authenticated) => ({
            labels: { authenticated: String(authenticated) },
            value: hub.peers().filter((p) => p.authenticated === authenticated).length,
          })),
      },
      {
        name: "opengenie_modules_announced",
        help: "Modules in the /ws/modules registry, the station's own included",
        type: "gauge",
        read: () => hub.registry().length,
      },
      {
        name: "opengenie_module_connections_opened_total",
        help: "/ws/modules connections accepted",
        type: "counter",
        read: () => counters.opened,
      },
      {
        name: "opengenie_module_events_routed_total",
        help: "Module events routed by the hub",
        type: "counter",
        read: () => counters.routed,
      },
      {
        name: "opengenie_module_auth_failures_total",
        help: "Wrong module tokens",
        type: "counter",
        read: () => counters.authFailures,
      },
      {
        name: "opengenie_module_frames_dropped_total",
        help: "Module frames not handled or not delivered, by reason",
        type: "counter",
        labelNames: ["reason"],
        read: () =>
          Object.entries(counters.dropped).map(([reason, value]) => ({ labels: { reason }, value })),
      },
    ],
    connections: () =>
      hub.peers().map((p) => ({
        id: p.id,
        kind: "module" as const,
        remoteAddress: p.socket.remoteAddress,
        connectedAt: p.socket.data.connectedAt,
        ...(p.name ? { principal: p.name } : {}),
        ...p.stats,
      })),
    start() {
      hub.start();
      station.start();
    },
    announceShutdown: () => hub.shutdown(),
    stop() {
      station.stop();
      hub.stop();
    },
  } satisfies StationModule;
}
