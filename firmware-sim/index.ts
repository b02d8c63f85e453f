export type { CommandMessage, CommandResult, DeviceType } from "../src/protocol/index.ts";
export { deviceTopic, deviceTypeSchema, deviceTypes } from "../src/protocol/index.ts";
export type { CommandEffect, CommandOutcome } from "./device-behaviours.ts";
export { applyCommand, initialState, sensorTick } from "./device-behaviours.ts";
export type { SimState } from "./device-protocol.ts";
export type { FakeStation, FakeStationOptions, StationPayload } from "./fake-station.ts";
export { startFakeStation } from "./fake-station.ts";
export type { Fleet, FleetOptions, FleetProgress, FleetSummary } from "./fleet.ts";
export { createFleet } from "./fleet.ts";
export { createSimulatedDevice } from "./simulated-device.ts";
export type {
  ReceivedCommand,
  SentState,
  SimulatedDevice,
  SimulatedDeviceOptions,
} from "./simulated-device-types.ts";
export type { CreatedDevice, DeviceCredentials, StationApiClient } from "./station-api-client.ts";
export { brokerUrl, createStationApiClient } from "./station-api-client.ts";
export type { WsSimulatedDeviceOptions } from "./ws-simulated-device.ts";
export { createWsSimulatedDevice } from "./ws-simulated-device.ts";
export type { IotSocketTransport, IotSocketTransportOptions } from "./ws-transport.ts";
export { createIotSocketTransport, iotSocketUrl } from "./ws-transport.ts";
