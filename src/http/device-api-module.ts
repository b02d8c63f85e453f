import type { DeviceService } from "../devices/index.ts";
import type { StationModule } from "../station-module.ts";
import { deviceOperations } from "../ws/index.ts";
import { lazyRoutes } from "./lazy-routes.ts";

export interface DeviceApiModuleDeps {
  stationId: string;
  devices: DeviceService;
  /** Where devices reach the broker, for the credentials handed out when one is added. */
  broker(): { host: string; port: number };
}

/** The device core as apps see it: `/api/devices…`, `devices.*` and `events.*` on `/ws`, and its metrics. */
export function createDeviceApiModule(deps: DeviceApiModuleDeps) {
  const { devices } = deps;
  const counts = () => {
    let total = 0;
    let online = 0;
    for (const d of devices.registry.all()) {
      total++;
      if (d.online) online++;
    }
    return { total, online };
  };
  return {
    name: "device-api",
    routes: [
      lazyRoutes(["/devices", "/device-types"], async () =>
        (await import("./routes/device-routes.ts")).deviceRoutes({
          devices,
          credentialsFor: (deviceId, token) => {
            const broker = deps.broker();
            return {
              stationId: deps.stationId,
              deviceId,
              mqttHost: broker.host,
              mqttPort: broker.port,
              mqttUsername: deviceId,
              mqttPassword: token,
            };
          },
        }),
      ),
    ],
    operations: deviceOperations(devices),
    metrics: [
      { name: "opengenie_devices", help: "Registered devices", type: "gauge", read: () => counts().total },
      {
        name: "opengenie_devices_online",
        help: "Devices currently online",
        type: "gauge",
        read: () => counts().online,
      },
      {
        name: "opengenie_device_messages_rejected",
        help: "Device messages rejected as malformed or invalid",
        type: "gauge",
        read: () => Object.values(devices.stats().rejected).reduce((a, b) => a + b, 0),
      },
      {
        name: "opengenie_device_messages_rejected_total",
        help: "Device messages rejected, by reason",
        type: "counter",
        labelNames: ["reason"],
        read: () =>
          Object.entries(devices.stats().rejected).map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: "opengenie_write_failures_total",
        help: "Rows the writer set aside: refused by the database (rejected) or dropped from its buffer while storage was down (dropped)",
        type: "counter",
        labelNames: ["reason"],
        read: () =>
          Object.entries(devices.writer.failures).map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: "opengenie_device_messages_dropped_total",
        help: "Device messages dropped for going over a device's limits: rate (events/s) or size (bytes)",
        type: "counter",
        labelNames: ["reason"],
        read: () =>
          Object.entries(devices.stats().dropped).map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: "opengenie_device_state_history_skipped_total",
        help: "State reports applied but not written to the event log, over a device's events/s",
        type: "counter",
        read: () => devices.stats().stateHistorySkipped,
      },
      {
        name: "opengenie_pending_writes",
        help: "State, device and event writes waiting for the next batch",
        type: "gauge",
        read: () => devices.writer.pending,
      },
    ],
  } satisfies StationModule;
}
