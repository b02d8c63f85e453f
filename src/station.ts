import { createAuthService, createLoginRateLimiter } from "./auth/index.ts";
import {
  ConfigError,
  type RunInfo,
  removeRunFile,
  type StationConfig,
  writeRunFile,
} from "./config/index.ts";
import {
  type Clock,
  createEventBus,
  createSystemClock,
  type EventBus,
  type Service,
  type StationEvents,
} from "./core/index.ts";
import { API_BODY_LIMIT, type ConnectionInfo, createApi, createFrontDoor } from "./http/index.ts";
import type { Logger } from "./logging/index.ts";
import type { HttpServerHandle, Platform } from "./platform/index.ts";
import { openDatabase, type StationDatabase } from "./storage/index.ts";
import { VERSION } from "./version.ts";
import { type AppSocketData, coreOperations, createAppSocketServer } from "./ws/index.ts";

export interface StationOptions {
  logger: Logger;
  clock?: Clock;
  /** Grace period announced to apps in the shutdown notice. */
  shutdownGraceMs?: number;
}

type SocketData = AppSocketData;

/**
 * The composition root: the only place services are constructed and wired (STYLE.md).
 * `start()` opens storage, listens, then starts boot services; `stop()` undoes it in reverse.
 */
export function createStation(config: StationConfig, platform: Platform, options: StationOptions) {
  const { logger } = options;
  const clock = options.clock ?? createSystemClock();
  const startedAt = clock.now();
  const bus: EventBus<StationEvents> = createEventBus<StationEvents>((event, err) =>
    logger.error("event consumer failed", { event, err }),
  );
  const services: Service[] = [];
  const started: Service[] = [];
  let database: StationDatabase | undefined;
  let server: HttpServerHandle | undefined;
  let runInfo: RunInfo | undefined;
  let stopping: Promise<void> | undefined;
  const unsubscribers: (() => void)[] = [];

  async function start(): Promise<RunInfo> {
    database = await openDatabase(platform, config.dataDir);
    const db = database.db;
    const auth = createAuthService({ db, platform, clock, jwtSecret: config.jwtSecret, bus });
    const appSockets = createAppSocketServer({
      auth,
      clock,
      logger: logger.child({ service: "ws" }),
      stationId: config.stationId,
      operations: [...coreOperations(clock)],
    });
    unsubscribers.push(bus.on("session.revoked", ({ sessionId }) => appSockets.closeSession(sessionId)));

    const connections = (): ConnectionInfo[] =>
      appSockets.connections().map((c) => ({
        id: c.id,
        kind: "app",
        remoteAddress: c.socket.remoteAddress,
        connectedAt: c.socket.data.connectedAt,
        principal: c.principal.username,
        ...c.stats,
      }));
    const api = createApi({
      logger: logger.child({ service: "http" }),
      version: VERSION,
      auth,
      loginLimiter: createLoginRateLimiter(clock),
      health: () => ({
        status: "ok",
        version: VERSION,
        stationId: config.stationId,
        uptimeMs: clock.now() - startedAt,
        mqtt: { mode: config.mqttUrl ? "external" : "embedded", connected: false },
      }),
      connections,
    });
    const fetch = createFrontDoor<SocketData>({
      api,
      remoteAccess: config.remoteAccess,
      sockets: { "/ws": appSockets.upgrade },
    });

    try {
      server = platform.serve<SocketData>({
        hostname: config.host,
        port: config.port,
        maxRequestBodySize: API_BODY_LIMIT * 16,
        maxWebSocketPayload: 64 * 1024,
        fetch,
        websocket: appSockets.handlers,
      });
    } catch (err) {
      await database.close();
      database = undefined;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") {
        throw new ConfigError(
          `port ${config.port} is in use (HTTP API); pass --port or stop the other process`,
        );
      }
      throw new ConfigError(
        `cannot listen on ${config.host}:${config.port} (${(err as Error).message}); pass --host or --port`,
      );
    }
    appSockets.start();
    services.push({ name: "app-sockets", start: async () => {}, stop: async () => appSockets.stop() });
    // Kept for stop(): the notice must go out before the listener closes.
    shutdownSockets = (grace) => appSockets.shutdown(grace);

    for (const service of services) {
      try {
        await service.start();
        started.push(service);
      } catch (err) {
        if (service.critical) {
          await stop();
          throw err;
        }
        logger.error(`boot service ${service.name} failed to start; the station runs without it`, { err });
      }
    }

    const httpHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    runInfo = {
      pid: process.pid,
      version: VERSION,
      stationId: config.stationId,
      httpUrl: `http://${httpHost}:${server.port}`,
      httpPort: server.port,
      mqttUrl: config.mqttUrl ?? `mqtt://${config.advertiseHost}:${config.mqttPort}`,
      mqttPort: config.mqttPort,
      startedAt,
    };
    writeRunFile(config.dataDir, runInfo);
    return runInfo;
  }

  let shutdownSockets: ((graceMs: number) => void) | undefined;

  async function doStop(): Promise<void> {
    shutdownSockets?.(options.shutdownGraceMs ?? 2000);
    await server?.stop(true);
    server = undefined;
    for (const service of started.reverse()) {
      try {
        await service.stop();
      } catch (err) {
        logger.error(`boot service ${service.name} failed to stop cleanly`, { err });
      }
    }
    started.length = 0;
    for (const off of unsubscribers.splice(0)) off();
    await database?.close();
    database = undefined;
    if (runInfo) removeRunFile(config.dataDir);
    runInfo = undefined;
  }

  /** Graceful stop, idempotent; gives up waiting after 10 s (CONTRACT.md section 5). */
  function stop(): Promise<void> {
    stopping ??= Promise.race([
      doStop(),
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          logger.error("graceful stop took over 10 s; exiting anyway");
          resolve();
        }, 10_000);
        t.unref?.();
      }),
    ]);
    return stopping;
  }

  return {
    config,
    bus,
    start,
    stop,
    get runInfo() {
      return runInfo;
    },
  };
}

export type Station = ReturnType<typeof createStation>;
