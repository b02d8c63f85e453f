import { ConfigError } from "../config/index.ts";
import type { EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { StationModule } from "../station-module.ts";
import type { IntegrationScope } from "./mqtt-integration-acl.ts";
import { createMqttService, MqttPortInUseError, type MqttServiceDeps } from "./mqtt-service.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

export interface MqttModuleDeps
  extends Omit<MqttServiceDeps, "devices" | "authenticateDevice" | "integrations"> {
  devices: DeviceService;
  /** Integration logins (`opengenie integration add`) on the embedded broker and what they may reach. */
  integrations?: {
    scope: IntegrationScope;
    authenticate(username: string, password: string): Promise<boolean>;
  };
  bus: EventBus<StationEvents>;
  /** The host devices are told to connect to (CONTRACT.md: station.json's mqttUrl). */
  advertisedHost: string;
}

/**
 * The MQTT transport: the embedded broker (or the client of an external one) and the bridge
 * between device topics and the device core. Started after the HTTP listener; only the
 * embedded broker's busy port stops the station.
 */
export interface MqttModule extends StationModule {
  /** Where devices reach the broker; the port is known once started. */
  deviceAddress(): { host: string; port: number };
  readonly port: number;
  readonly mode: "embedded" | "external";
  /** The station's own MQTT client while the module runs (other modules publish through it). */
  client(): StationMqttClient | undefined;
}

export function createMqttModule(deps: MqttModuleDeps): MqttModule {
  const { devices } = deps;
  const { integrations, ...rest } = deps;
  const mqtt = createMqttService({
    ...rest,
    devices,
    authenticateDevice: (id, password) => devices.registry.verifyCredential(id, password),
    ...(integrations
      ? {
          integrations: {
            ...integrations,
            // `<deviceId>` or `<deviceId>-<suffix>` of a registered device stays that device's.
            isDeviceClientId: (clientId: string) =>
              devices.registry.get(clientId) !== undefined ||
              devices.registry.get(clientId.split("-")[0]!) !== undefined,
          },
        }
      : {}),
  });
  let offs: (() => void)[] = [];
  return {
    name: "mqtt",
    critical: mqtt.service.critical,
    commandSinks: { mqtt: { send: (id, message) => mqtt.sendCommand(id, message) } },
    health: () => ({ mqtt: { mode: mqtt.mode, connected: mqtt.connected } }),
    metrics: [
      {
        name: "opengenie_mqtt_connected",
        help: "1 when the station's MQTT client is connected",
        type: "gauge",
        read: () => (mqtt.connected ? 1 : 0),
      },
      {
        name: "opengenie_broker_refusals_total",
        help: "Connects, publishes and subscribes the embedded MQTT broker refused",
        type: "counter",
        labelNames: ["kind", "reason"],
        read: () =>
          (mqtt.brokerStats()?.refusals ?? []).map(({ kind, reason, count }) => ({
            labels: { kind, reason },
            value: count,
          })),
      },
      {
        name: "opengenie_device_messages_duplicate_total",
        help: "Device messages the broker delivered again: skipped (handled before) or possible (handled again after a restart)",
        type: "counter",
        labelNames: ["outcome"],
        read: () =>
          Object.entries(mqtt.duplicates()).map(([outcome, value]) => ({ labels: { outcome }, value })),
      },
      // The embedded broker's limits (docs/security.md, "MQTT and device limits"); 0 with an external broker.
      {
        name: "opengenie_mqtt_oversized_packets_total",
        help: "MQTT connections ended because a packet announced more than the size limit",
        type: "counter",
        read: () => mqtt.brokerStats()?.oversizedPackets ?? 0,
      },
      {
        name: "opengenie_mqtt_stored_sessions",
        help: "Persistent MQTT sessions the embedded broker keeps for devices",
        type: "gauge",
        read: () => mqtt.brokerStats()?.storedSessions ?? 0,
      },
      {
        name: "opengenie_mqtt_queued_messages",
        help: "QoS 1 messages queued in the embedded broker for offline or unacknowledging clients",
        type: "gauge",
        read: () => mqtt.brokerStats()?.queuedMessages ?? 0,
      },
      {
        name: "opengenie_mqtt_sessions_evicted_total",
        help: "Stored sessions evicted because their device had more than the limit",
        type: "counter",
        read: () => mqtt.brokerStats()?.evictedSessions ?? 0,
      },
      {
        name: "opengenie_mqtt_queued_messages_dropped_total",
        help: "Queued messages dropped, oldest first, because a client's queue was full",
        type: "counter",
        read: () => mqtt.brokerStats()?.droppedQueuedMessages ?? 0,
      },
    ],
    deviceAddress: () => ({ host: deps.advertisedHost, port: mqtt.port }),
    mode: mqtt.mode,
    client: () => mqtt.client(),
    get port() {
      return mqtt.port;
    },
    async start() {
      try {
        await mqtt.service.start();
      } catch (err) {
        if (err instanceof MqttPortInUseError) throw new ConfigError(err.message);
        throw err;
      }
      // A deleted device's credential stops working and its connection closes at once.
      offs = [deps.bus.on("device.removed", ({ deviceId }) => mqtt.disconnectDevice(deviceId))];
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      await mqtt.service.stop();
    },
  };
}
