/**
 * Deliberate protocol breaking for tests: malformed payloads on the device's own topics,
 * publishes and subscriptions outside its ACL. Firmware never does this; a hostile or buggy
 * device might, and the station must shrug it off (CONTRACT.md section 3).
 */
import type { MqttClient } from "mqtt";
import type { Clock, TimerHandle } from "../src/core/index.ts";
import type { DeviceToStationSuffix } from "../src/protocol/index.ts";
import { isSubscriptionRefusal } from "./device-connection.ts";

export interface RawMqttAccess {
  /** Any text, even one that is not JSON, on one of the device's own topics. */
  publishRaw(suffix: DeviceToStationSuffix, payload: string): Promise<void>;
  publishToTopic(topic: string, payload: string | object, timeoutMs?: number): Promise<boolean>;
  subscribeRaw(topic: string): Promise<boolean>;
}

export function createRawMqttAccess(
  requireClient: () => MqttClient,
  ownTopic: (suffix: DeviceToStationSuffix) => string,
  clock: Clock,
): RawMqttAccess {
  return {
    async publishRaw(suffix, payload) {
      await requireClient().publishAsync(ownTopic(suffix), payload, { qos: 1 });
    },

    async publishToTopic(topic, payload, timeoutMs = 2_000) {
      const body = typeof payload === "string" ? payload : JSON.stringify(payload);
      // A broker refusing a publish on MQTT 3.1.1 can only drop it or disconnect, never NACK,
      // so "no PUBACK within the timeout" is the signal an ACL test looks for.
      const publishing = requireClient().publishAsync(topic, body, { qos: 1 });
      let timer: TimerHandle | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = clock.setTimeout(() => resolve(false), timeoutMs);
      });
      const acked = publishing.then(
        () => true,
        () => false,
      );
      return Promise.race([acked, timedOut]).finally(() => clock.clearTimeout(timer));
    },

    /** true when granted; false when the SUBACK says 0x80 (refused). */
    subscribeRaw(topic) {
      return new Promise<boolean>((resolve, reject) => {
        requireClient().subscribe(topic, { qos: 1 }, (error) => {
          if (!error) resolve(true);
          else if (isSubscriptionRefusal(error)) resolve(false);
          else reject(error);
        });
      });
    },
  };
}
