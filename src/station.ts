import { hostname } from "node:os";
import { createAdminModule } from "./admin/index.ts";
import { createLoginRateLimiter, createTokenAdmin, createUserAdmin } from "./auth/index.ts";
import { createAutomationsModule } from "./automations/index.ts";
import { createProvisioningModule } from "./ble/index.ts";
import { createCloudModule } from "./cloud/index.ts";
import { createClusterModule } from "./cluster/index.ts";
import {
  createInstanceLock,
  describeRun,
  deviceBrokerHost,
  type RunInfo,
  removeRunFile,
  type StationConfig,
  writeRunFile,
} from "./config/index.ts";
import {
  createEventBus,
  createLifecycle,
  createSystemClock,
  type EventBus,
  type StationEvents,
  withDeadline,
} from "./core/index.ts";
import { createDeviceService, type Transport } from "./devices/index.ts";
import { createDriversModule } from "./drivers/index.ts";
import {
  createHomeAssistantModule,
  createIntegrationStore,
  createIntegrationsModule,
  homeAssistantWill,
} from "./home-assistant/index.ts";
import { createDeviceApiModule, createHostAllowList, createHttpModule } from "./http/index.ts";
import { createIotWsModule } from "./iot-ws/index.ts";
import { createMetricsModule } from "./metrics/index.ts";
import { createModuleHubModule } from "./modules/index.ts";
import { createMqttModule } from "./mqtt/index.ts";
import type { Platform } from "./platform/index.ts";
import { createSetupModule } from "./setup/index.ts";
import { createCoreAuth, createMemoryRelief, databaseOptions } from "./station-core.ts";
import type { StationContext, StationModule } from "./station-module.ts";
import type { Core, Running, StationOptions } from "./station-parts.ts";
import { openDatabase } from "./storage/index.ts";
import { VERSION } from "./version.ts";
import { createAppSocketsModule } from "./ws/index.ts";

export function createStation(config: StationConfig, platform: Platform, options: StationOptions) {
  const { logger, pid } = options;
  const clock = options.clock ?? createSystemClock();
  const startedAt = clock.now();
  const bus: EventBus<StationEvents> = createEventBus<StationEvents>((event, err) =>
    logger.error("event consumer failed", { event, err }),
  );
  const lifecycle = createLifecycle<StationContext>(logger);
  const instanceLock = createInstanceLock(config.dataDir, pid);
  const memoryRelief = createMemoryRelief(clock, platform);
  let running: Running | undefined;
  // The presence sweep and event pruning run on one instance of the station (docs/scale-out.md).
  let leader = () => true;
  let runInfo: RunInfo | undefined;
  let stopping: Promise<void> | undefined;
  // A module may ask the process to exit with a code (the cloud's station_reset); bin/ does it.
  let requestExit: (code: number) => void = () => undefined;
  const exitRequested = new Promise<number>((resolve) => {
    requestExit = resolve;
  });

  /** The modules around the core, in start order. */
  function createModules({ database, auth, devices }: Core) {
    const child = (service: string) => logger.child({ service });
    const homeAssistant = config.haDiscovery === "on";
    const integrations = createIntegrationStore(database.db, clock);
    const mqtt = createMqttModule({
      integrations: {
        scope: { stationId: config.stationId, prefix: config.haPrefix },
        authenticate: (username, password) => integrations.verify(username, password),
      },
      ...(homeAssistant ? { will: homeAssistantWill(config.stationId) } : {}),
      stationId: config.stationId,
      instanceId: config.instanceId,
      url: config.mqttUrl,
      host: config.host,
      port: config.mqttPort,
      listenTcp: platform.listenTcp,
      advertisedHost: deviceBrokerHost(config),
      logger,
      clock,
      bus,
      devices,
    });
    const cluster = createClusterModule({
      ...config,
      db: database.db,
      bus,
      devices,
      auth,
      mqtt,
      clock,
      logger,
    });
    leader = () => cluster.leader;
    const http = createHttpModule({
      platform,
      noteRequest: memoryRelief.noteRequest,
      host: config.host,
      port: config.port,
      remoteAccess: config.remoteAccess,
      hosts: createHostAllowList({ hostname: hostname(), allowed: config.allowedHosts }),
      logger: child("http"),
      version: VERSION,
      auth,
      users: createUserAdmin({ db: database.db, auth, bus }),
      tokens: createTokenAdmin({ db: database.db, auth, clock }),
      loginLimiter: createLoginRateLimiter(clock),
      health: () => ({
        status: "ok",
        version: VERSION,
        stationId: config.stationId,
        instanceId: config.instanceId,
        uptimeMs: clock.now() - startedAt,
        storage: devices.writer.status(),
      }),
    });
    const modules: StationModule[] = [
      createDeviceApiModule({ stationId: config.stationId, devices, broker: mqtt.deviceAddress }),
      createAppSocketsModule({
        auth,
        bus,
        clock,
        logger: child("ws"),
        stationId: config.stationId,
        deviceType: (id) => devices.registry.get(id)?.type,
      }),
      createIotWsModule({ devices, bus, clock, logger: child("ws-iot") }),
      createDriversModule({ db: database.db, devices, bus, clock, config, logger: child("drivers") }),
      createProvisioningModule({
        platform,
        dataDir: config.dataDir,
        bleBridge: config.bleBridge,
        stationId: config.stationId,
        devices,
        bus,
        clock,
        logger,
        broker: mqtt.deviceAddress,
      }),
      // One cloud connection per station: on the leader when several instances form it.
      cluster.whileLeader(
        createCloudModule({
          db: database.db,
          config,
          platform,
          devices,
          auth,
          bus,
          clock,
          logger: child("cloud"),
          requestExit,
        }),
      ),
      createModuleHubModule({
        stationId: config.stationId,
        token: config.modulesToken,
        policy: config.modulesPolicy,
        commands: config.modulesCommands,
        version: VERSION,
        bus,
        devices,
        clock,
        logger: child("modules"),
      }),
      createAutomationsModule({
        db: database.db,
        devices,
        bus,
        clock,
        logger: child("automations"),
        cluster: { remoteFact: () => cluster.applyingRemoteFact, leader: () => cluster.leader },
        ...(config.timeZone ? { timeZone: config.timeZone } : {}),
      }),
      createMetricsModule({ auth, bus, uptimeMs: () => clock.now() - startedAt }),
      createSetupModule({ auth, dataDir: config.dataDir, clock, logger: child("setup") }),
      createAdminModule({ config, platform, version: VERSION, clock, startedAt, mqtt }),
      createIntegrationsModule({
        store: integrations,
        homeAssistant: { enabled: homeAssistant, prefix: config.haPrefix },
      }),
      // The listener: the modules above are ready before anyone connects, those below start after.
      http,
      mqtt,
      // After mqtt: facts to and from the station's other instances go through its client.
      cluster,
      // After mqtt: it publishes through the station's MQTT client, and stops before it.
      ...(homeAssistant
        ? [
            createHomeAssistantModule({
              stationId: config.stationId,
              prefix: config.haPrefix,
              version: VERSION,
              mqtt,
              db: database.db,
              devices,
              bus,
              clock,
              logger: child("home-assistant"),
            }),
          ]
        : []),
    ];
    return { modules, http, mqtt };
  }

  async function start(): Promise<RunInfo> {
    // Before anything else: a second station on this data dir stops here, touching nothing.
    instanceLock.acquire();
    try {
      return await startLocked();
    } catch (err) {
      // Whatever started is stopped again, and the lock released, before the error is reported.
      await stop();
      throw err;
    }
  }

  async function startLocked(): Promise<RunInfo> {
    const database = await openDatabase(platform, config.dataDir, databaseOptions(config, logger));
    running = { database, modules: [] };
    const devices = createDeviceService({
      db: database.db,
      runBatch: database.runBatch,
      dialect: database.dialect,
      clock,
      bus,
      logger: logger.child({ service: "devices" }),
      leader: () => leader(),
      sharedPresence: config.mqttUrl !== undefined,
      noteTraffic: memoryRelief.noteTraffic,
    });
    await devices.start();
    running.devices = devices;
    const auth = createCoreAuth({ database, platform, clock, bus }, config);
    const { modules, http, mqtt } = createModules({ database, auth, devices });
    running.modules = modules;
    for (const m of modules) {
      for (const [transport, sink] of Object.entries(m.commandSinks ?? {}))
        devices.commands.registerSink(transport as Transport, sink);
    }
    await lifecycle.startAll(modules, { modules });
    runInfo = describeRun(config, {
      pid,
      version: VERSION,
      httpPort: http.port!,
      mqttPort: mqtt.port,
      startedAt,
    });
    writeRunFile(config.dataDir, runInfo);
    memoryRelief.afterStart();
    return runInfo;
  }

  async function doStop(): Promise<void> {
    for (const m of running?.modules ?? []) m.announceShutdown?.(options.shutdownGraceMs ?? 2000);
    await lifecycle.stopAll();
    memoryRelief.stop();
    // The core last: transports have stopped handing it messages, so this flush is the final one.
    await running?.devices?.stop();
    await running?.database.close();
    running = undefined;
    if (runInfo) removeRunFile(config.dataDir, pid);
    runInfo = undefined;
    instanceLock.release();
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
    /** The running station's modules, in start order (for tests that walk what they contribute). */
    get modules(): readonly StationModule[] {
      return running?.modules ?? [];
    },
    get runInfo() {
      return runInfo;
    },
    /** Resolves with an exit code when a module asks the process to end (after `station_reset`). */
    exitRequested,
  };
}

export type { StationOptions } from "./station-parts.ts";
export type Station = ReturnType<typeof createStation>;
