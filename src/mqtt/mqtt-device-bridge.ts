import type { Logger } from "../logging/index.ts";
import { createDuplicateWindow } from "./duplicate-window.ts";
import { deviceTopic, deviceToStationFilters, parseDeviceTopic, sharedFilters } from "./mqtt-topics.ts";
import type { StationMqttClient } from "./station-mqtt-client.ts";

/** What the bridge needs of the device core: one call per message, maybe an ack back. */
export interface DeviceMessageHandler {
  handle(deviceId: string, transport: "mqtt", suffix: string, raw: string): Promise<object | undefined>;
  /** A message the broker refused before it reached the core, counted with the core's drops. */
  countDropped(deviceId: string, reason: "size"): void;
  /** Resolves once what was handled so far is stored: the PUBACK waits for it (deferAcks). */
  durable?(): Promise<void>;
}

export interface MqttDeviceBridgeDeps {
  client: StationMqttClient;
  stationId: string;
  devices: DeviceMessageHandler;
  logger: Logger;
  /** Subscribe through `$share/<group>/…` so instances of one station split the messages. */
  shared?: boolean;
  /**
   * The client holds PUBACKs until `durable()` (an external broker): detect redeliveries and
   * hand back the promise the ack waits for. Off on the embedded broker, whose in-process client
   * acks nothing, so its messages pay neither a digest nor an early flush of the writer.
   */
  deferredAcks?: boolean;
}

/**
 * Translates MQTT topics and payloads to device-core calls and back; nothing more. With an
 * external broker the core checks every topic's deviceId against the registry, so a stranger
 * publishing on a made-up deviceId changes nothing.
 */
export function createMqttDeviceBridge(deps: MqttDeviceBridgeDeps) {
  const { client, stationId, devices, logger } = deps;
  const duplicates = createDuplicateWindow();
  const durable = deps.deferredAcks ? devices.durable?.bind(devices) : undefined;
  let off: (() => void) | undefined;

  function onMessage(topic: string, payload: Buffer, info: { redelivered: boolean }) {
    const parsed = parseDeviceTopic(topic);
    if (!parsed || parsed.stationId !== stationId) return;
    const { deviceId, suffix } = parsed;
    if (suffix === "handshake/ack" || suffix === "command") return;
    // At least once: a message handled but not yet acknowledged when the connection dropped
    // comes again. Seen here before: not handled twice; after a restart: handled, and counted.
    if (durable && !duplicates.admit(deviceId, suffix, payload, info.redelivered)) return durable();
    const handled = devices
      .handle(deviceId, "mqtt", suffix, payload.toString("utf8"))
      .then((ack) => {
        if (ack) return client.publish(deviceTopic(stationId, deviceId, "handshake/ack"), ack, { qos: 1 });
      })
      .catch((err) => logger.error("handling a device message failed", { deviceId, suffix, err }));
    // The state and events it produced are in the writer once handle() resolved.
    return durable ? handled.then(durable) : undefined;
  }

  return {
    duplicates: () => duplicates.counts(),
    /** Attach before the client connects: a persistent session delivers queued messages right after CONNACK. */
    attach() {
      off ??= client.onMessage(onMessage);
    },
    async start() {
      this.attach();
      const filters = deviceToStationFilters(stationId);
      await client.subscribe(deps.shared ? sharedFilters(stationId, filters) : filters);
    },
    async stop() {
      off?.();
      off = undefined;
    },
    /** The command sink for MQTT devices. */
    sendCommand(deviceId: string, message: Record<string, unknown>) {
      if (!client.connected) throw new Error("the MQTT broker connection is down");
      return client.publish(deviceTopic(stationId, deviceId, "command"), message, { qos: 1 });
    },
  };
}

export type MqttDeviceBridge = ReturnType<typeof createMqttDeviceBridge>;
