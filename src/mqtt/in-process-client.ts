import { Buffer } from "node:buffer";
import { listen } from "../core/index.ts";
import type { BrokerCore, BrokerMessage } from "./mqtt-broker-core.ts";
import type { MessageHandler, StationMqttClient, StatusHandler } from "./station-mqtt-client.ts";

/**
 * The station's side of the embedded broker, inside the broker's process: subscriptions and
 * publishes go straight through the broker core instead of a loopback TCP connection, which
 * would parse every message twice and cost three socket writes (bench/ingest.ts,
 * bench/command-rtt.ts).
 */
export function createInProcessClient(core: () => BrokerCore | undefined): StationMqttClient {
  const messageHandlers = new Set<MessageHandler>();
  const subscriptions = new Set<string>();
  let connected = false;

  const deliver = (message: BrokerMessage) => {
    for (const handler of messageHandlers) handler(message.topic, message.payload, { redelivered: false });
  };

  const broker = () => {
    const b = core();
    if (!b) throw new Error("the embedded MQTT broker is not running");
    return b;
  };

  return {
    async start() {
      broker();
      connected = true;
    },
    async stop() {
      const b = core();
      for (const topic of subscriptions) b?.unsubscribe(topic, deliver);
      subscriptions.clear();
      messageHandlers.clear();
      connected = false;
    },
    get connected() {
      return connected && core() !== undefined;
    },
    onMessage(handler) {
      return listen(messageHandlers, handler);
    },
    onStatus(_handler: StatusHandler) {
      // Always connected while the broker runs: there is no connection to lose.
      return () => {};
    },
    async subscribe(topics) {
      const b = broker();
      for (const topic of topics) {
        if (subscriptions.has(topic)) continue;
        subscriptions.add(topic);
        b.subscribe(topic, deliver);
      }
    },
    async publish(topic, payload, options) {
      const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
      broker().publish({ topic, payload: body, qos: options?.qos ?? 1, retain: options?.retain ?? false });
    },
  };
}
