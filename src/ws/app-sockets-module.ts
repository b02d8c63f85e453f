import type { AuthService } from "../auth/index.ts";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import { type StationModule, socketEndpoint } from "../station-module.ts";
import type { Channel } from "./app-connection.ts";
import { createAppSocketServer } from "./app-socket-server.ts";
import { coreOperations } from "./core-operations.ts";
import type { Operation } from "./operations.ts";
import { type ChannelHooks, createSubscriptions } from "./subscriptions.ts";

export interface AppSocketsModuleDeps {
  auth: AuthService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  stationId: string;
  /** The type of a registered device, so type-filtered subscriptions match. */
  deviceType(deviceId: string): string | undefined;
}

/**
 * `/ws` for apps (CONTRACT.md section 4): request/response over the operations every module
 * contributes, and channel subscriptions fed only by the bus.
 */
export function createAppSocketsModule(deps: AppSocketsModuleDeps) {
  const { auth, logger } = deps;
  // Every module's operations and channel hooks are served here, read once the station starts.
  let operations: Operation[] = [];
  let hooks: Partial<Record<Channel, ChannelHooks>> = {};
  const subscriptions = createSubscriptions({
    bus: deps.bus,
    connections: () => server.connections(),
    deviceType: deps.deviceType,
    hooks: () => hooks,
  });
  const server = createAppSocketServer({
    auth,
    clock: deps.clock,
    logger,
    stationId: deps.stationId,
    operations: () => operations,
    onDisconnect: (conn) => {
      subscriptions.dropConnection(conn);
      auth
        .touchSession(conn.principal.sessionId)
        .catch((err) => logger.warn("recording last seen failed", { err }));
    },
  });
  let offs: (() => void)[] = [];
  return {
    name: "app-sockets",
    operations: [...coreOperations(deps.clock), ...subscriptions.operations],
    sockets: [
      socketEndpoint({
        path: "/ws",
        kind: "app",
        access: "guest",
        upgrade: server.upgrade,
        handlers: server.handlers,
      }),
    ],
    metrics: [
      {
        name: "opengenie_app_connections",
        help: "Open /ws app connections",
        type: "gauge",
        read: () => server.connections().length,
      },
    ],
    connections: () =>
      server.connections().map((c) => ({
        id: c.id,
        kind: "app" as const,
        remoteAddress: c.socket.remoteAddress,
        connectedAt: c.socket.data.connectedAt,
        principal: c.principal.username,
        ...c.stats,
      })),
    start({ modules }) {
      operations = modules.flatMap((m) => m.operations ?? []);
      hooks = Object.assign({}, ...modules.map((m) => m.channels ?? {}));
      subscriptions.start();
      server.start();
      offs = [
        deps.bus.on("session.revoked", ({ sessionId }) => server.closeSession(sessionId)),
        deps.bus.on("user.role_changed", ({ userId, role }) => server.changeRole(userId, role)),
      ];
    },
    announceShutdown: (gracePeriodMs) => server.shutdown(gracePeriodMs),
    stop() {
      for (const off of offs.splice(0)) off();
      server.stop();
      subscriptions.stop();
    },
  } satisfies StationModule;
}
