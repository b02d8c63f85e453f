export { MAX_QUEUED_RUNS, MAX_RUNS_PER_MINUTE } from "./automation-runner.ts";
export { type AutomationService, MAX_AUTOMATIONS } from "./automation-service.ts";
export { createAutomationStore } from "./automation-store.ts";
export type { AutomationsModuleDeps } from "./automations-module.ts";
export { createAutomationsModule } from "./automations-module.ts";
export { atToCron, nextWallTime, parseCron } from "./cron.ts";
export { nextFireTime } from "./next-fire.ts";
export { createZone, isTimeZone, systemTimeZone } from "./zoned-time.ts";
