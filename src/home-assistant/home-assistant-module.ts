import type { Kysely } from "kysely";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import { type MqttModule, shareGroup } from "../mqtt/index.ts";
import type { StationModule } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import { createHaBridge, type HaBridge } from "./ha-bridge.ts";
import { haTopics } from "./ha-discovery.ts";

export interface HomeAssistantModuleDeps {
  stationId: string;
  /** `OPENGENIE_HA_PREFIX`. */
  prefix: string;
  version: string;
  /** The MQTT module, listed before this one: its client is running when this starts. */
  mqtt: MqttModule;
  db: Kysely<Database>;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
}

/** The retained last will of the station's client on an external broker: the bridge goes offline. */
export function homeAssistantWill(stationId: string) {
  return { topic: haTopics(stationId).bridgeAvailability, payload: "offline" };
}

/**
 * Home Assistant MQTT discovery (docs/home-assistant.md): every device appears in Home
 * Assistant with live state and availability, and HA's commands come back through the device
 * core. Not critical: without it the station runs on.
 */
export function createHomeAssistantModule(deps: HomeAssistantModuleDeps): StationModule {
  let bridge: HaBridge | undefined;
  return {
    name: "home-assistant",
    async start() {
      const client = deps.mqtt.client();
      if (!client) throw new Error("the MQTT module is not running");
      const started = createHaBridge({
        ...deps,
        client,
        ...(deps.mqtt.mode === "external" ? { shareGroup: shareGroup(deps.stationId) } : {}),
      });
      try {
        await started.start();
      } catch (err) {
        // A module that fails to start is never stopped: undo its listeners here.
        await started.stop();
        throw err;
      }
      bridge = started;
      deps.logger.info("home assistant discovery on", { prefix: deps.prefix });
    },
    async stop() {
      await bridge?.stop();
      bridge = undefined;
    },
  };
}
