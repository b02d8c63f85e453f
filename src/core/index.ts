export type { Clock, TimerHandle } from "./clock.ts";
export { createManualClock, createSystemClock } from "./clock.ts";
export type { BackoffOptions } from "./reconnect-backoff.ts";
export { backoffDelay } from "./reconnect-backoff.ts";
