import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import { type StationModule, socketEndpoint } from "../station-module.ts";
import { createIotSocketServer } from "./iot-socket-server.ts";

export interface IotWsModuleDeps {
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
}

/** The `/ws/iot` transport: ESP32 firmware over WebSocket, on the same device core as MQTT. */
export function createIotWsModule(deps: IotWsModuleDeps) {
  const { devices } = deps;
  const server = createIotSocketServer({
    core: {
      verifyCredential: (id, token) => devices.registry.verifyCredential(id, token),
      handle: (id, transport, suffix, raw) => devices.handle(id, transport, suffix, raw),
      disconnected: (id) => devices.disconnected(id),
    },
    logger: deps.logger,
    now: () => deps.clock.now(),
  });
  let offs: (() => void)[] = [];
  return {
    name: "iot-ws",
    sockets: [
      socketEndpoint({
        path: "/ws/iot",
        kind: "iot",
        access: "device",
        upgrade: server.upgrade,
        handlers: server.handlers,
      }),
    ],
    commandSinks: { "iot-ws": { send: (id, message) => server.sendCommand(id, message) } },
    metrics: [
      {
        name: "opengenie_iot_connections",
        help: "Open /ws/iot device connections",
        type: "gauge",
        read: () => server.connections().length,
      },
    ],
    connections: () =>
      server.connections().map(({ deviceId, ...c }) => ({ ...c, kind: "iot" as const, principal: deviceId })),
    start() {
      // A deleted device's credential stops working and its socket closes at once.
      offs = [deps.bus.on("device.removed", ({ deviceId }) => server.disconnectDevice(deviceId))];
    },
    announceShutdown: () => server.shutdown(),
    stop() {
      for (const off of offs.splice(0)) off();
    },
  } satisfies StationModule;
}
