import { connect, type MqttClient } from "mqtt";
import { parseConfigTopic } from "./ha-schema.ts";

/** Home Assistant's side: every message it sees, the latest per topic, and how many. */
export function playHomeAssistant(url: string, login?: { username: string; password: string }) {
  const latest = new Map<string, string>();
  const counts = new Map<string, number>();
  const client: MqttClient = connect(url, {
    clientId: `ha-${Math.random().toString(16).slice(2)}`,
    reconnectPeriod: 0,
    ...(login ?? {}),
  });
  client.on("message", (topic, payload) => {
    latest.set(topic, payload.toString("utf8"));
    counts.set(topic, (counts.get(topic) ?? 0) + 1);
  });
  client.on("error", () => {});
  return {
    client,
    latest,
    counts,
    ready: new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    }),
    json: (topic: string) => JSON.parse(latest.get(topic) ?? "null") as Record<string, unknown> | null,
    configs(prefix = "homeassistant") {
      return [...latest].filter(([t, p]) => p !== "" && parseConfigTopic(prefix, t));
    },
  };
}
export type Ha = ReturnType<typeof playHomeAssistant>;

/** True when the broker granted the subscription (SUBACK not 0x80). */
export async function granted(client: MqttClient, filter: string): Promise<boolean> {
  try {
    const result = await client.subscribeAsync(filter, { qos: 1 });
    return result.every((g) => g.qos !== 128);
  } catch {
    return false;
  }
}
