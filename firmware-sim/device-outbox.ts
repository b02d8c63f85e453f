/**
 * Everything a device sends on its own topics goes through here, whatever the link (MQTT QoS 1
 * or a /ws/iot frame, CONTRACT.md sections 3 and 4); state reports are announced to listeners
 * only once the link has taken them.
 */
import type { Clock } from "../src/core/index.ts";
import { listen } from "../src/core/index.ts";
import type { DeviceToStationSuffix } from "../src/protocol/index.ts";
import { eventPayload, type SimState, statePayload } from "./device-protocol.ts";
import type { SentState } from "./simulated-device-types.ts";

export interface DeviceOutbox {
  publishJson(suffix: DeviceToStationSuffix, body: unknown): Promise<void>;
  sendState(partial: SimState): Promise<void>;
  sendEvent(event: "device_event" | "user_event", data: Record<string, unknown>): Promise<void>;
  onStateSent(listener: (sent: SentState) => void): () => void;
}

export function createDeviceOutbox(
  send: (suffix: DeviceToStationSuffix, body: unknown) => Promise<void>,
  clock: Clock,
): DeviceOutbox {
  const stateListeners = new Set<(sent: SentState) => void>();
  return {
    publishJson: send,
    async sendState(partial) {
      const sent = statePayload(partial, clock.now());
      await send("state", sent);
      for (const listener of stateListeners) listener(sent);
    },
    sendEvent: (event, data) => send("event", eventPayload(event, data, clock.now())),
    onStateSent(listener) {
      return listen(stateListeners, listener);
    },
  };
}
