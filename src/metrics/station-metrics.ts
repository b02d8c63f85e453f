import { Counter, Gauge, Registry } from "prom-client";
import type { EventBus, StationEvents } from "../core/index.ts";

/** What the metrics read at scrape time; each source is owned by its service. */
export interface MetricSources {
  uptimeMs(): number;
  devices(): { total: number; online: number };
  connections(): { apps: number; iot: number };
  mqttConnected(): boolean;
  rejectedDeviceMessages(): number;
  pendingWrites(): number;
  /** Rows the batched writer gave up on, by reason; monotonic. */
  writeFailures(): { rejected: number; dropped: number };
}

/**
 * Prometheus metrics for one station, in its own registry (never prom-client's global one),
 * fed by the event bus and read from the services when scraped.
 */
export function createStationMetrics(bus: EventBus<StationEvents>, sources: MetricSources) {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("opengenie_uptime_seconds", "Seconds since the station started", () => sources.uptimeMs() / 1000);
  gauge("opengenie_devices", "Registered devices", () => sources.devices().total);
  gauge("opengenie_devices_online", "Devices currently online", () => sources.devices().online);
  gauge("opengenie_app_connections", "Open /ws app connections", () => sources.connections().apps);
  gauge("opengenie_iot_connections", "Open /ws/iot device connections", () => sources.connections().iot);
  gauge("opengenie_mqtt_connected", "1 when the station's MQTT client is connected", () =>
    sources.mqttConnected() ? 1 : 0,
  );
  gauge("opengenie_device_messages_rejected", "Device messages rejected as malformed or invalid", () =>
    sources.rejectedDeviceMessages(),
  );
  gauge("opengenie_pending_writes", "State, device and event writes waiting for the next batch", () =>
    sources.pendingWrites(),
  );
  gauge(
    "opengenie_process_resident_memory_bytes",
    "Resident set size of the station process",
    () => process.memoryUsage().rss,
  );

  new Counter({
    name: "opengenie_write_failures_total",
    help: "Rows the writer set aside: refused by the database (rejected) or dropped from its buffer while storage was down (dropped)",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      // The writer owns the count; a counter is only ever reset to a value that never shrinks.
      this.reset();
      for (const [reason, n] of Object.entries(sources.writeFailures())) this.inc({ reason }, n);
    },
  });

  const stateUpdates = new Counter({
    name: "opengenie_device_state_updates_total",
    help: "State reports merged",
    registers: [registry],
  });
  const events = new Counter({
    name: "opengenie_device_events_total",
    help: "Device events logged",
    registers: [registry],
  });
  const statusChanges = new Counter({
    name: "opengenie_device_status_changes_total",
    help: "Online/offline transitions",
    labelNames: ["online"],
    registers: [registry],
  });
  const offs = [
    bus.on("device.state", () => stateUpdates.inc()),
    bus.on("device.event", () => events.inc()),
    bus.on("device.status", (e) => statusChanges.inc({ online: String(e.online) })),
  ];

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    stop() {
      for (const off of offs) off();
      registry.clear();
    },
  };
}

export type StationMetrics = ReturnType<typeof createStationMetrics>;
