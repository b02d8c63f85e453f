import { type Clock, MAX_TIMER_MS, type Service } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import type { EmbeddedBroker, EmbeddedBrokerDeps } from "./embedded-broker.ts";
import {
  createMqttDeviceBridge,
  type DeviceMessageHandler,
  type MqttDeviceBridge,
} from "./mqtt-device-bridge.ts";
import { parseMqttUrl, redactMqttUrl } from "./mqtt-url.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

export interface MqttServiceDeps {
  stationId: string;
  /** This instance among several forming the station (docs/scale-out.md); part of the client id. */
  instanceId?: string;
  /** External broker URL; unset = run the embedded broker. */
  url?: string;
  host: string;
  port: number;
  /** The platform's TCP server, for the embedded broker. */
  listenTcp: Platform["listenTcp"];
  logger: Logger;
  clock: Clock;
  devices: DeviceMessageHandler;
  authenticateDevice(deviceId: string, password: string): Promise<boolean>;
  /** External mode: how long start() waits for the first connection before going on. */
  firstConnectWaitMs?: number /** The station client's retained last will on an external broker (the Home Assistant bridge). */;
  will?: { topic: string; payload: string };
  /** Integration logins on the embedded broker. */
  integrations?: EmbeddedBrokerDeps["integrations"];
}

/** A port the embedded broker could not bind: the CLI turns it into the contract's one-line error. */
export class MqttPortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is in use (embedded MQTT broker); pass --mqtt-port or --mqtt-url`);
    this.name = "MqttPortInUseError";
  }
}

/** True when `promise` settles within `ms` (on the injected clock), false otherwise. */
function firstOf(promise: Promise<unknown>, clock: Clock, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clock.clearTimeout(timer);
        resolve(true);
      },
      () => {
        clock.clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

/** The station's MQTT side: the embedded broker (unless external), its own client, the device bridge. */
export function createMqttService(deps: MqttServiceDeps) {
  const logger = deps.logger.child({ service: "mqtt" });
  const mode: "embedded" | "external" = deps.url ? "external" : "embedded";
  let broker: EmbeddedBroker | undefined;
  let client: StationMqttClient | undefined;
  let bridge: MqttDeviceBridge | undefined;
  let port = deps.port;

  const service: Service & Record<string, unknown> = {
    name: "mqtt",
    // Only the embedded broker's port is the user's to fix before the station can run; an
    // unreachable external broker is retried in the background (health shows connected:false).
    critical: mode === "embedded",
    async start() {
      if (deps.url) {
        port = parseMqttUrl(deps.url).port;
        // Loaded here, not at the top: MQTT.js costs ~40 ms and several MB at start, and a
        // station on its embedded broker never uses it (issue 17).
        const { createStationMqttClient } = await import("./station-mqtt-client.ts");
        client = createStationMqttClient({
          url: deps.url,
          // A stable client id with clean:false keeps the session, so QoS 1 messages sent while
          // the station restarts wait at the broker; one per instance when several form the station.
          clientId: deps.instanceId
            ? `opengenie-${deps.stationId}-${deps.instanceId}`
            : `opengenie-${deps.stationId}`,
          logger,
          clock: deps.clock,
          // Keep trying for as long as the station runs; start() below waits only briefly.
          connectTimeoutMs: MAX_TIMER_MS,
          // A device message is acknowledged once stored: a crash leaves it at the broker.
          deferAcks: true,
          ...(deps.will ? { will: deps.will } : {}),
        });
        client.onStatus((connected) =>
          logger.info(connected ? "connected to MQTT broker" : "MQTT broker connection lost"),
        );
      } else {
        const { createEmbeddedBroker } = await import("./embedded-broker.ts");
        broker = createEmbeddedBroker({
          host: deps.host,
          port: deps.port,
          listenTcp: deps.listenTcp,
          logger,
          stationId: deps.stationId,
          authenticateDevice: deps.authenticateDevice,
          onOversizedPublish: (deviceId) => deps.devices.countDropped(deviceId, "size"),
          ...(deps.integrations ? { integrations: deps.integrations } : {}),
        });
        try {
          port = (await broker.start()).port;
        } catch (err) {
          broker = undefined;
          if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new MqttPortInUseError(deps.port);
          throw err;
        }
        client = broker.localClient();
      }
      bridge = createMqttDeviceBridge({
        client,
        stationId: deps.stationId,
        devices: deps.devices,
        logger,
        // On an external broker the instances of one station share the device topics: each
        // message goes to exactly one of them (docs/scale-out.md).
        shared: mode === "external",
        deferredAcks: mode === "external",
      });
      // Listen before connecting: a persistent session delivers queued messages right after CONNACK.
      bridge.attach();
      const connected = client.start();
      if (mode === "embedded") await connected;
      else {
        connected.catch((err) => logger.error("MQTT broker connection failed", { err }));
        const waited = await firstOf(connected, deps.clock, deps.firstConnectWaitMs ?? 3000);
        if (!waited)
          logger.warn(
            `MQTT broker ${redactMqttUrl(deps.url!)} not reachable yet; retrying in the background`,
          );
      }
      await bridge.start();
    },
    async stop() {
      // The bridge keeps handling until the connection is closed: a message MQTT.js acknowledges
      // must reach the device core, which flushes it to disk after this.
      await client?.stop();
      await bridge?.stop();
      await broker?.stop();
      bridge = client = broker = undefined;
    },
  };

  return {
    service,
    mode,
    get port() {
      return port;
    },
    get connected() {
      return client?.connected ?? false;
    },
    sendCommand(deviceId: string, message: Record<string, unknown>) {
      if (!bridge) throw new Error("MQTT is not running");
      return bridge.sendCommand(deviceId, message);
    },
    disconnectDevice(deviceId: string) {
      broker?.disconnectDevice(deviceId);
    },
    brokerStats: () => broker?.stats(),
    duplicates: () => bridge?.duplicates() ?? { skipped: 0, possible: 0 },
    /** The station's own client while running (in-process for the embedded broker). */
    client: (): StationMqttClient | undefined => client,
  };
}

export type MqttService = ReturnType<typeof createMqttService>;
