export type { MetricsModuleDeps } from "./metrics-module.ts";
export { createMetricsModule } from "./metrics-module.ts";
export type { MetricDefinition, StationMetrics } from "./station-metrics.ts";
export { createStationMetrics } from "./station-metrics.ts";
