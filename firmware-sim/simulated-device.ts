/**
 * A fake ESP32 speaking CONTRACT.md section 3 over a real MQTT connection, byte for byte as
 * firmware would: last will, handshake on every (re)connect, state + heartbeat after the ack,
 * command results, sensor timers. Used by tests, demos and load generation. The device logic
 * is device-runtime.ts; this file is the MQTT link: topics, last will, subscriptions.
 */
import mqtt, { type MqttClient } from "mqtt";
import { type DeviceTopicSuffix, deviceTopic, type StationToDeviceSuffix } from "../src/protocol/index.ts";
import { connectRefusal, deviceConnectOptions, isSubscriptionRefusal } from "./device-connection.ts";
import type { DeviceLink, DeviceLinkContext } from "./device-link.ts";
import { parseJsonText } from "./device-protocol.ts";
import { createDeviceRuntime } from "./device-runtime.ts";
import { createRawMqttAccess } from "./raw-mqtt-access.ts";
import type {
  ReceivedCommand,
  SentState,
  SimulatedDevice,
  SimulatedDeviceOptions,
} from "./simulated-device-types.ts";

export type { ReceivedCommand, SentState, SimulatedDevice, SimulatedDeviceOptions };

export function createSimulatedDevice(options: SimulatedDeviceOptions): SimulatedDevice {
  return createDeviceRuntime({ ...options, peer: "broker" }, (context) => createMqttLink(options, context));
}

function createMqttLink(
  options: SimulatedDeviceOptions,
  { clock, log, hooks }: DeviceLinkContext,
): DeviceLink {
  const { deviceId } = options;
  const topic = (suffix: DeviceTopicSuffix) => deviceTopic(options.stationId, deviceId, suffix);
  const incoming = new Map<string, StationToDeviceSuffix>([
    [topic("handshake/ack"), "handshake/ack"],
    [topic("command"), "command"],
  ]);
  let client: MqttClient | undefined;
  let stopped = false;
  let lastError: string | undefined;

  const requireClient = () => {
    if (!client) throw new Error(`${deviceId}: not started`);
    return client;
  };

  const onConnect = () => {
    // Handshake only after SUBACK, or the station's ack could arrive before we listen.
    client?.subscribe([...incoming.keys()], { qos: 1 }, (err) => {
      if (err) {
        const why = isSubscriptionRefusal(err) ? "the broker refused the subscription (ACL)" : err.message;
        return hooks.failStart(
          new Error(`${deviceId}: cannot subscribe to handshake/ack and command: ${why}`),
        );
      }
      hooks.opened();
    });
  };

  const onMessage = (messageTopic: string, payload: Buffer) => {
    const suffix = incoming.get(messageTopic);
    // Topics subscribed through subscribeRaw are not the device's business.
    if (suffix) hooks.received(suffix, parseJsonText(payload), payload.toString());
  };

  const onError = (error: Error) => {
    const refusal = connectRefusal(deviceId, error);
    if (refusal) return hooks.failStart(refusal);
    lastError = error.message;
    log.warn("mqtt error", { error: error.message });
    if (options.reconnect === false) hooks.failStart(new Error(`${deviceId}: ${error.message}`));
  };

  return {
    get connected() {
      return client?.connected ?? false;
    },
    get lastError() {
      return lastError;
    },
    connect() {
      stopped = false;
      const willTopic = topic("heartbeat");
      const connectTimeoutMs = Math.min(options.startTimeoutMs ?? 10_000, 10_000);
      client = mqtt.connect(options.url, deviceConnectOptions({ ...options, willTopic, connectTimeoutMs }));
      client.on("connect", onConnect);
      client.on("message", onMessage);
      client.on("error", onError);
      client.on("close", hooks.closed);
    },
    /** An ESP32 restart drops TCP without DISCONNECT, so the broker fires the last will. */
    restart() {
      client?.end(true, () => {
        if (!stopped) client?.reconnect();
      });
    },
    async shutdown(graceful) {
      stopped = true;
      const current = client;
      client = undefined;
      // graceful = DISCONNECT, so no will; otherwise the socket dies like on a power cut.
      // Listeners stay attached: an 'error' emitted with none would throw.
      if (current) await current.endAsync(!graceful || !current.connected);
    },
    async send(suffix, body) {
      await requireClient().publishAsync(topic(suffix), JSON.stringify(body), { qos: 1 });
    },
    raw: createRawMqttAccess(requireClient, topic, clock),
  };
}
