/**
 * The OpenGenie driver SDK (docs/drivers.md): `createStationDriver` and its types, plus the
 * protocol's frame types for drivers that want to look at the wire.
 */
export type {
  DeviceMetric,
  DriverActionFrame,
  DriverErrorFrame,
  StationDriverFrame,
} from "../../src/protocol/index.ts";
export type { DriverEvents } from "./driver-events.ts";
export type {
  ActionHandler,
  ActionOutcome,
  DriverAction,
  DriverCommand,
  DriverDevice,
  DriverOptions,
  DriverState,
  JsonSchema,
} from "./driver-types.ts";
export { DEFAULT_BACKOFF } from "./reconnect-schedule.ts";
export type { StationDriver } from "./station-driver.ts";
export { createStationDriver } from "./station-driver.ts";
