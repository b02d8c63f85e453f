export { bleChecks } from "./ble-checks.ts";
export type { CheckResult } from "./check.ts";
export { fail, ok, skip, warn } from "./check.ts";
export { hostChecks } from "./host-checks.ts";
export { type DoctorProgress, runDoctorChecks } from "./run-checks.ts";
export { stationChecks } from "./station-checks.ts";
