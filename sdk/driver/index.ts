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
export type {
  ActionHandler,
  ActionOutcome,
  DriverAction,
  DriverCommand,
  DriverDevice,
  DriverEvents,
  DriverOptions,
  DriverState,
  JsonSchema,
  StationDriver,
} from "./station-driver.ts";
export { createStationDriver, DEFAULT_BACKOFF } from "./station-driver.ts";
