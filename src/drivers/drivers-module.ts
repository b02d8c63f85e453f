import type { Kysely } from "kysely";
import type { StationConfig } from "../config/index.ts";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import { lazyRoutes } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import { type StationModule, socketEndpoint } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import { createCatalogCompiler } from "./command-catalog.ts";
import { createDriverActions } from "./driver-actions.ts";
import { createDriverDevices } from "./driver-devices.ts";
import type { DriverLimits } from "./driver-limits.ts";
import { listDrivers } from "./driver-list.ts";
import type { DriverHub } from "./driver-session.ts";
import { createDriverSocketServer } from "./driver-socket-server.ts";
import { createDriverTokens } from "./driver-tokens.ts";

export interface DriversModuleDeps {
  db: Kysely<Database>;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  /** `driversTrustLoopback` (OPENGENIE_DRIVERS_TRUST_LOOPBACK=on): token-less drivers from loopback only. */
  config: Pick<StationConfig, "driversTrustLoopback">;
  limits?: Partial<DriverLimits>;
}

/**
 * The `/driver` transport (CONTRACT.md section 4): HOS-compatible drivers announce devices, push
 * state and metrics, and execute commands; `/api/drivers…` manages their tokens.
 */
export function createDriversModule(deps: DriversModuleDeps) {
  const { db, devices, clock, logger } = deps;
  const tokens = createDriverTokens(db, clock);
  const driverDevices = createDriverDevices({
    db,
    devices,
    catalogs: createCatalogCompiler(),
    clock,
    logger,
  });
  const hub: DriverHub = {
    driverKeyOf: (token) => tokens.driverKeyOf(token),
    registered: (s) => driverDevices.online(s.driverKey, s.instanceId),
    ended: (s) => driverDevices.offline(s.driverKey, s.instanceId),
    async handle(session, e) {
      switch (e.event) {
        case "DEVICE_DISCOVERED":
          return driverDevices.discover(session, e.deviceId, e.data);
        case "DEVICE_UPDATED":
          return driverDevices.update(session, e.deviceId, e.data);
        case "STATE_UPDATE":
          return driverDevices.state(session.driverKey, e.deviceId, e.data);
        case "METRIC_UPDATE":
          return driverDevices.metrics(session.driverKey, e.deviceId, e.data.metrics);
        case "ACTION_RESULT":
          await actions.result(session, e.data);
          return undefined;
      }
    },
  };
  const server = createDriverSocketServer({
    hub,
    clock,
    logger,
    trustLoopback: deps.config.driversTrustLoopback === "on",
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  const actions = createDriverActions({ devices, driverDevices, clock, session: server.session });
  let offs: (() => void)[] = [];

  return {
    name: "drivers",
    routes: [
      lazyRoutes(["/drivers"], async () =>
        (await import("./driver-routes.ts")).driverRoutes({
          list: () =>
            listDrivers(db, {
              sessions: server.sessions(),
              online: (id) => devices.registry.get(id)?.online,
            }),
          async issueToken(driverKey) {
            const token = await tokens.issue(driverKey);
            // The previous token stops working: so do the sessions that came in with it.
            server.closeTokenSessions(driverKey, "driver token replaced");
            return token;
          },
          async revokeToken(driverKey) {
            const revoked = await tokens.revoke(driverKey);
            return {
              driverKey,
              revoked,
              closedSessions: server.closeTokenSessions(driverKey, "driver token revoked"),
            };
          },
        }),
      ),
    ],
    sockets: [
      socketEndpoint({
        path: "/driver",
        kind: "driver",
        access: "driver",
        upgrade: server.upgrade,
        handlers: server.handlers,
      }),
    ],
    commandSinks: { driver: actions.sink },
    metrics: [
      {
        name: "opengenie_driver_sessions",
        help: "Registered /driver sessions",
        type: "gauge",
        read: () => server.sessions().length,
      },
      {
        name: "opengenie_driver_devices",
        help: "Devices announced by drivers",
        type: "gauge",
        read: () => [...driverDevices.all()].length,
      },
      {
        name: "opengenie_driver_messages_rejected_total",
        help: "Driver messages refused with an error frame (or dropped, for rate), by reason",
        type: "counter",
        labelNames: ["reason"],
        read: () =>
          Object.entries(server.rejected()).map(([reason, value]) => ({
            labels: { reason },
            value: value ?? 0,
          })),
      },
      {
        name: "opengenie_driver_action_results_ignored_total",
        help: "ACTION_RESULTs ignored: repeated, late, or for a request their driver was not sent",
        type: "counter",
        read: () => actions.stats().ignoredResults,
      },
    ],
    connections: () => server.connections().map((c) => ({ ...c, kind: "driver" as const })),
    async start() {
      await driverDevices.load();
      offs = [deps.bus.on("device.removed", ({ deviceId }) => driverDevices.forget(deviceId))];
      server.start();
    },
    announceShutdown: () => server.shutdown(),
    stop() {
      for (const off of offs.splice(0)) off();
      server.stop();
    },
  } satisfies StationModule;
}
