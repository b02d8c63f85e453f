import { createAuthService, createLoginRateLimiter } from "./auth/index.ts";
import {
  createBleBridgeProcess,
  createProvisioningService,
  resolveBridgeCommand,
  writeBridgeScript,
} from "./ble/index.ts";
import { cloudStatus } from "./cloud/index.ts";
import {
  assertNoOtherStation,
  ConfigError,
  describeRun,
  deviceBrokerHost,
  type RunInfo,
  removeRunFile,
  type StationConfig,
  writeRunFile,
} from "./config/index.ts";
import {
  type Clock,
  createEventBus,
  createLifecycle,
  createSystemClock,
  type EventBus,
  type StationEvents,
  withDeadline,
} from "./core/index.ts";
import { createDeviceService } from "./devices/index.ts";
import {
  cloudRoutes,
  createApi,
  createFrontDoor,
  createMetricsEndpoint,
  deviceRoutes,
  explainListenError,
  provisioningRoutes,
} from "./http/index.ts";
import type { Logger } from "./logging/index.ts";
import { createStationMetrics } from "./metrics/index.ts";
import { createMqttService, MqttPortInUseError } from "./mqtt/index.ts";
import type { HttpServerHandle, Platform } from "./platform/index.ts";
import { openDatabase, type StationDatabase } from "./storage/index.ts";
import { VERSION } from "./version.ts";
import {
  type AppSocketData,
  coreOperations,
  createAppSocketServer,
  createIotSocketServer,
  createSubscriptions,
  describeConnections,
  deviceOperations,
  dispatchSockets,
  type IotSocketData,
} from "./ws/index.ts";

export interface StationOptions {
  logger: Logger;
  clock?: Clock;
  /** Grace period announced to apps in the shutdown notice. */
  shutdownGraceMs?: number;
}

type SocketData = AppSocketData | IotSocketData;

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
  const lifecycle = createLifecycle(logger);
  let database: StationDatabase | undefined;
  let server: HttpServerHandle | undefined;
  let runInfo: RunInfo | undefined;
  let stopping: Promise<void> | undefined;
  let announceShutdown: ((graceMs: number) => void) | undefined;

  async function start(): Promise<RunInfo> {
    assertNoOtherStation(config.dataDir, process.pid);
    database = await openDatabase(platform, config.dataDir);
    const db = database.db;
    const auth = createAuthService({ db, platform, clock, jwtSecret: config.jwtSecret, bus });
    const devices = createDeviceService({
      db,
      runBatch: database.runBatch,
      clock,
      bus,
      logger: logger.child({ service: "devices" }),
    });
    await devices.start();
    lifecycle.running({ name: "devices", start: async () => {}, stop: () => devices.stop() });

    const mqtt = createMqttService({
      stationId: config.stationId,
      url: config.mqttUrl,
      host: config.host,
      port: config.mqttPort,
      logger,
      clock,
      devices,
      authenticateDevice: (id, password) => devices.registry.verifyCredential(id, password),
    });
    lifecycle.cleanup(
      devices.commands.registerSink("mqtt", { send: (id, msg) => mqtt.sendCommand(id, msg) }),
    );

    const brokerAddress = () => ({ host: deviceBrokerHost(config), port: mqtt.port });
    let appSockets: ReturnType<typeof createAppSocketServer> | undefined;
    let subscriptions: ReturnType<typeof createSubscriptions> | undefined;
    const bridge = createBleBridgeProcess({
      platform,
      command: resolveBridgeCommand(config.bleBridge, () => writeBridgeScript(config.dataDir)),
      logger: logger.child({ service: "ble" }),
      clock,
    });
    const provisioning = createProvisioningService({
      bridge,
      bus,
      clock,
      logger: logger.child({ service: "provisioning" }),
      stationId: config.stationId,
      broker: brokerAddress,
      createDevice: async (name, type) => {
        const { device, token } = await devices.registry.create({ name, type });
        return { deviceId: device.id, token: token! };
      },
      removeDevice: async (id) => {
        await devices.registry.remove(id);
      },
      publish: (event, data) => subscriptions?.publish("provisioning", event, data),
    });
    lifecycle.running({ name: "provisioning", start: async () => {}, stop: () => provisioning.stop() });
    subscriptions = createSubscriptions({
      bus,
      connections: () => appSockets?.connections() ?? [],
      deviceType: (id) => devices.registry.get(id)?.type,
      hooks: { provisioning: provisioning.hooks },
    });
    const subs = subscriptions;
    lifecycle.cleanup(() => subs.stop());
    appSockets = createAppSocketServer({
      auth,
      clock,
      logger: logger.child({ service: "ws" }),
      stationId: config.stationId,
      operations: [...coreOperations(clock), ...subs.operations, ...deviceOperations(devices)],
      onDisconnect: (conn) => {
        subs.dropConnection(conn);
        auth
          .touchSession(conn.principal.sessionId)
          .catch((err) => logger.warn("recording last seen failed", { err }));
      },
    });
    const sockets = appSockets;
    lifecycle.cleanup(bus.on("session.revoked", ({ sessionId }) => sockets.closeSession(sessionId)));
    const iot = createIotSocketServer({
      core: {
        verifyCredential: (id, token) => devices.registry.verifyCredential(id, token),
        handle: (id, transport, suffix, raw) => devices.handle(id, transport, suffix, raw),
        disconnected: (id) => devices.disconnected(id),
      },
      logger: logger.child({ service: "ws-iot" }),
      now: () => clock.now(),
    });
    lifecycle.cleanup(
      devices.commands.registerSink("iot-ws", { send: (id, msg) => iot.sendCommand(id, msg) }),
    );
    // A deleted device's credential stops working and its connections close at once.
    lifecycle.cleanup(
      bus.on("device.removed", ({ deviceId }) => {
        mqtt.disconnectDevice(deviceId);
        iot.disconnectDevice(deviceId);
      }),
    );

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
        mqtt: { mode: mqtt.mode, connected: mqtt.connected },
        storage: devices.writer.status(),
      }),
      connections: () => describeConnections(sockets, iot),
      extraRoutes: [
        provisioningRoutes(provisioning),
        cloudRoutes(() => cloudStatus(db, config)),
        deviceRoutes({
          devices,
          credentialsFor: (deviceId, token) => ({
            stationId: config.stationId,
            deviceId,
            mqttHost: brokerAddress().host,
            mqttPort: brokerAddress().port,
            mqttUsername: deviceId,
            mqttPassword: token,
          }),
        }),
      ],
    });
    const metrics = createStationMetrics(bus, {
      uptimeMs: () => clock.now() - startedAt,
      devices: () => {
        const all = [...devices.registry.all()];
        return { total: all.length, online: all.filter((d) => d.online).length };
      },
      connections: () => ({ apps: sockets.connections().length, iot: iot.connections().length }),
      mqttConnected: () => mqtt.connected,
      rejectedDeviceMessages: () => Object.values(devices.stats().rejected).reduce((a, b) => a + b, 0),
      pendingWrites: () => devices.writer.pending,
      writeFailures: () => devices.writer.failures,
    });
    lifecycle.cleanup(() => metrics.stop());
    const fetch = createFrontDoor<SocketData>({
      api,
      remoteAccess: config.remoteAccess,
      metrics: createMetricsEndpoint(auth, metrics),
      sockets: { "/ws": sockets.upgrade, "/ws/iot": iot.upgrade },
    });

    try {
      server = platform.serve<SocketData>({
        hostname: config.host,
        port: config.port,
        // Far above the API's own 64 KiB limit, so oversized bodies get its JSON error, not a bare 413.
        maxRequestBodySize: 8 * 1024 * 1024,
        maxWebSocketPayload: 64 * 1024,
        fetch,
        websocket: dispatchSockets<SocketData>({ app: sockets.handlers, iot: iot.handlers }),
      });
    } catch (err) {
      await stop();
      throw new ConfigError(explainListenError(err, config.host, config.port));
    }
    sockets.start();
    announceShutdown = (grace) => {
      sockets.shutdown(grace);
      iot.shutdown();
    };
    lifecycle.cleanup(() => sockets.stop());

    // Boot services start after the listener; only the embedded broker's port is fatal.
    try {
      await lifecycle.boot([mqtt.service]);
    } catch (err) {
      await stop();
      if (err instanceof MqttPortInUseError) throw new ConfigError(err.message);
      throw err;
    }

    runInfo = describeRun(config, {
      pid: process.pid,
      version: VERSION,
      httpPort: server.port,
      mqttPort: mqtt.port,
      startedAt,
    });
    writeRunFile(config.dataDir, runInfo);
    return runInfo;
  }

  async function doStop(): Promise<void> {
    announceShutdown?.(options.shutdownGraceMs ?? 2000);
    await server?.stop(true);
    server = undefined;
    await lifecycle.stopAll();
    await database?.close();
    database = undefined;
    if (runInfo) removeRunFile(config.dataDir, process.pid);
    runInfo = undefined;
  }

  /** Graceful stop, idempotent; gives up waiting after 10 s (CONTRACT.md section 5). */
  function stop(): Promise<void> {
    stopping ??= withDeadline(doStop(), 10_000, () =>
      logger.error("graceful stop took over 10 s; exiting anyway"),
    );
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
