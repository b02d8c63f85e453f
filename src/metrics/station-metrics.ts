import type { Counter, Gauge, Registry } from "prom-client";
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

/** prom-client's text format (Registry.PROMETHEUS_CONTENT_TYPE), without loading prom-client. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Prometheus metrics for one station, in its own registry (never prom-client's global one):
 * counters fed by the event bus, and whatever the station's modules contribute.
 *
 * prom-client (~35 ms and a few MB at start, issue 17) is loaded on the first scrape, and the
 * registry is built then. The bus counters count from start() in plain numbers, so a scrape
 * shows everything that happened before it; the registry reads them when collected.
 */
export function createStationMetrics(bus: EventBus<StationEvents>, definitions: readonly MetricDefinition[]) {
  let stateUpdates = 0;
  let events = 0;
  const statusChanges = new Map<string, number>();
  let offs: (() => void)[] = [];
  let registry: Promise<Registry> | undefined;

  const counted: MetricDefinition[] = [
    {
      name: "opengenie_device_state_updates_total",
      help: "State reports merged",
      type: "counter",
      read: () => stateUpdates,
    },
    {
      name: "opengenie_device_events_total",
      help: "Device events logged",
      type: "counter",
      read: () => events,
    },
    {
      name: "opengenie_device_status_changes_total",
      help: "Online/offline transitions",
      type: "counter",
      labelNames: ["online"],
      read: () => [...statusChanges].map(([online, value]) => ({ labels: { online }, value })),
    },
  ];

  async function buildRegistry(): Promise<Registry> {
    const { Counter, Gauge, Registry } = await import("prom-client");
    const built = new Registry();
    for (const definition of [...definitions, ...counted]) {
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
      const options = { name: definition.name, help: definition.help, labelNames, registers: [built] };
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
      registers: [built],
      collect() {
        this.set(process.memoryUsage().rss);
      },
    });
    return built;
  }

  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    render: async () => {
      registry ??= buildRegistry();
      return (await registry).metrics();
    },
    start() {
      offs = [
        bus.on("device.state", () => {
          stateUpdates++;
        }),
        bus.on("device.event", () => {
          events++;
        }),
        bus.on("device.status", (e) => {
          const online = String(e.online);
          statusChanges.set(online, (statusChanges.get(online) ?? 0) + 1);
        }),
      ];
    },
    stop() {
      for (const off of offs.splice(0)) off();
      void registry?.then((r) => r.clear());
      registry = undefined;
    },
  };
}

export type StationMetrics = ReturnType<typeof createStationMetrics>;
