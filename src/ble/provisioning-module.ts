import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import { lazyRoutes, loadProvisioningRoutes } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import type { StationModule } from "../station-module.ts";
import { createBleBridgeProcess } from "./ble-bridge-process.ts";
import { writeBridgeScript } from "./ble-bridge-script.ts";
import { resolveBridgeCommand } from "./bridge-command.ts";
import { createProvisioningService } from "./provisioning-service.ts";

export interface ProvisioningModuleDeps {
  platform: Platform;
  dataDir: string;
  /** A command line replacing the embedded helper (OPENGENIE_BLE_BRIDGE). */
  bleBridge?: string;
  stationId: string;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  /** Where a paired device will reach the broker. */
  broker(): { host: string; port: number };
}

/**
 * BLE pairing: the bleak helper runs only while someone watches the `provisioning` channel or
 * pairs a device; candidates and results go out on the bus.
 */
export function createProvisioningModule(deps: ProvisioningModuleDeps) {
  const { devices } = deps;
  const bridge = createBleBridgeProcess({
    platform: deps.platform,
    command: resolveBridgeCommand(deps.bleBridge, () =>
      writeBridgeScript(deps.dataDir, deps.platform.embedded.bleBridgeScript),
    ),
    logger: deps.logger.child({ service: "ble" }),
    clock: deps.clock,
  });
  const provisioning = createProvisioningService({
    bridge,
    bus: deps.bus,
    clock: deps.clock,
    logger: deps.logger.child({ service: "provisioning" }),
    stationId: deps.stationId,
    broker: deps.broker,
    createDevice: async (name, type) => {
      const { device, token } = await devices.registry.create({ name, type });
      return { deviceId: device.id, token: token! };
    },
    removeDevice: async (id) => {
      await devices.registry.remove(id);
    },
  });
  return {
    name: "provisioning",
    routes: [
      lazyRoutes(["/provisioning"], async () =>
        (await loadProvisioningRoutes()).provisioningRoutes(provisioning),
      ),
    ],
    channels: { provisioning: provisioning.hooks },
    stop: () => provisioning.stop(),
  } satisfies StationModule;
}
