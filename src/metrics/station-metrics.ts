import { Counter, Gauge, Registry } from "prom-client";
import type { EventBus, StationEvents } from "../core/index.ts";

/**
 * A metric a station module contributes, read when scraped: one number, or one number per
 * label set (then `labelNames` names the labels).
 */
export interface MetricDefinition {
  name: string;
  help: string;
  type: "gauge" | "counter";
  labelNames?: readonly string[];
  read(): number | readonly { labels: Record<string, string>; value: number }[];
}

/**
 * Prometheus metrics for one station, in its own registry (never prom-client's global one):
 * counters fed by the event bus, and whatever the station's modules contribute.
 */
export function createStationMetrics(bus: EventBus<StationEvents>, definitions: readonly MetricDefinition[]) {
  const registry = new Registry();
  for (const definition of definitions) {
    const labelNames = [...(definition.labelNames ?? [])];
    const collect = (metric: Gauge | Counter) => {
      const value = definition.read();
      metric.reset();
      if (typeof value === "number") {
        if (metric instanceof Gauge) metric.set(value);
        else metric.inc(value);
        return;
      }
      for (const v of value) {
        if (metric instanceof Gauge) metric.set(v.labels, v.value);
        else metric.inc(v.labels, v.value);
      }
    };
    const options = { name: definition.name, help: definition.help, labelNames, registers: [registry] };
    if (definition.type === "gauge")
      new Gauge({
        ...options,
        collect() {
          collect(this);
        },
      });
    else
      new Counter({
        ...options,
        collect() {
          collect(this);
        },
      });
  }
  new Gauge({
    name: "opengenie_process_resident_memory_bytes",
    help: "Resident set size of the station process",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().rss);
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
  let offs: (() => void)[] = [];

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    start() {
      offs = [
        bus.on("device.state", () => stateUpdates.inc()),
        bus.on("device.event", () => events.inc()),
        bus.on("device.status", (e) => statusChanges.inc({ online: String(e.online) })),
      ];
    },
    stop() {
      for (const off of offs.splice(0)) off();
      registry.clear();
    },
  };
}

export type StationMetrics = ReturnType<typeof createStationMetrics>;
