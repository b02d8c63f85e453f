import type { Aedes, PublishPacket } from "aedes";
import { listen } from "../core/index.ts";
import type { MessageHandler, StationMqttClient, StatusHandler } from "./station-mqtt-client.ts";

type Deliver = (packet: PublishPacket, done: () => void) => void;

/**
 * The station's side of the embedded broker, inside the broker's process: subscriptions and
 * publishes go straight through aedes instead of a loopback TCP connection, which would parse
 * every message twice and cost three socket writes (bench/ingest.ts, bench/command-rtt.ts).
 */
export function createInProcessClient(aedes: () => Aedes | undefined): StationMqttClient {
  const messageHandlers = new Set<MessageHandler>();
  const subscriptions = new Map<string, Deliver>();
  let connected = false;

  const deliver: Deliver = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    for (const handler of messageHandlers) handler(packet.topic, payload, { redelivered: false });
    done();
  };

  const broker = () => {
    const b = aedes();
    if (!b) throw new Error("the embedded MQTT broker is not running");
    return b;
  };

  return {
    async start() {
      broker();
      connected = true;
    },
    async stop() {
      const b = aedes();
      for (const [topic, fn] of subscriptions) {
        if (b) await new Promise<void>((resolve) => b.unsubscribe(topic, fn, () => resolve()));
      }
      subscriptions.clear();
      messageHandlers.clear();
      connected = false;
    },
    get connected() {
      return connected && aedes() !== undefined;
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
        subscriptions.set(topic, deliver);
        await new Promise<void>((resolve) => b.subscribe(topic, deliver, () => resolve()));
      }
    },
    publish(topic, payload, options) {
      const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
      const packet = {
        cmd: "publish",
        topic,
        payload: body,
        qos: options?.qos ?? 1,
        retain: options?.retain ?? false,
        dup: false,
      } as PublishPacket;
      return new Promise<void>((resolve, reject) =>
        broker().publish(packet, (err) => (err ? reject(err) : resolve())),
      );
    },
  };
}
