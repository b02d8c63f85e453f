export type { MetricSources, StationMetrics } from "./station-metrics.ts";
export { createStationMetrics } from "./station-metrics.ts";
