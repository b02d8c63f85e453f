import type { AuthService } from "../auth/index.ts";
import type { EventBus, StationEvents } from "../core/index.ts";
import { createMetricsEndpoint } from "../http/index.ts";
import type { StationModule } from "../station-module.ts";
import { createStationMetrics, PROMETHEUS_CONTENT_TYPE, type StationMetrics } from "./station-metrics.ts";

export interface MetricsModuleDeps {
  auth: AuthService;
  bus: EventBus<StationEvents>;
  uptimeMs(): number;
}

/** `GET /metrics` (Prometheus text): bus counters and every module's metrics. */
export function createMetricsModule(deps: MetricsModuleDeps) {
  let metrics: StationMetrics | undefined;
  const endpoint = createMetricsEndpoint(deps.auth, {
    contentType: PROMETHEUS_CONTENT_TYPE,
    render: async () => (metrics ? metrics.render() : ""),
  });
  return {
    name: "metrics",
    metrics: [
      {
        name: "opengenie_uptime_seconds",
        help: "Seconds since the station started",
        type: "gauge",
        read: () => deps.uptimeMs() / 1000,
      },
    ],
    endpoints: [{ path: "/metrics", access: "loopback or admin", handle: endpoint }],
    start({ modules }) {
      // Every module's metrics, collected when scraped.
      metrics = createStationMetrics(
        deps.bus,
        modules.flatMap((m) => m.metrics ?? []),
      );
      metrics.start();
    },
    stop() {
      metrics?.stop();
      metrics = undefined;
    },
  } satisfies StationModule;
}
