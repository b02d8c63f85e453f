/**
 * Everything a device sends on its own topics goes through here: QoS 1 JSON (CONTRACT.md
 * section 3), and state reports are announced to listeners only once the broker has them.
 */
import type { MqttClient } from "mqtt";
import type { Clock } from "../src/core/index.ts";
import { type DeviceToStationSuffix, eventPayload, type SimState } from "./device-protocol.ts";
import type { SentState } from "./simulated-device-types.ts";

export interface DeviceOutbox {
  publishJson(suffix: DeviceToStationSuffix, body: unknown): Promise<void>;
  sendState(partial: SimState): Promise<void>;
  sendEvent(event: "device_event" | "user_event", data: Record<string, unknown>): Promise<void>;
  onStateSent(listener: (sent: SentState) => void): () => void;
}

export function createDeviceOutbox(
  requireClient: () => MqttClient,
  ownTopic: (suffix: string) => string,
  clock: Clock,
): DeviceOutbox {
  const stateListeners = new Set<(sent: SentState) => void>();
  const publishJson = async (suffix: DeviceToStationSuffix, body: unknown) => {
    await requireClient().publishAsync(ownTopic(suffix), JSON.stringify(body), { qos: 1 });
  };
  return {
    publishJson,
    async sendState(partial) {
      const sent = { state: partial, timestamp: clock.now() };
      await publishJson("state", sent);
      for (const listener of stateListeners) listener(sent);
    },
    sendEvent: (event, data) => publishJson("event", eventPayload(event, data, clock.now())),
    onStateSent(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
  };
}
