/**
 * Every wire shape of the station, defined once as zod schemas (docs/protocol.md): the server
 * emits through them, the typed client and the web app parse with them, and the OpenAPI
 * document is generated from them (`.meta({ id })` names its components). Imports only zod,
 * so the browser bundle can take it.
 */
export type {
  Channel,
  ErrorFrame,
  FrameId,
  RequestFrame,
  ResultFrame,
  StationSystemFrame,
  SubscriptionFilter,
  SystemFrame,
  WelcomeFrame,
} from "./app-frames.ts";
export {
  APP_PROTOCOL,
  BEARER_PROTOCOL_PREFIX,
  CLOSE_PONG_TIMEOUT,
  CLOSE_SESSION_REVOKED,
  channelSchema,
  droppedFrameSchema,
  errorFrameSchema,
  frameIdSchema,
  requestFrameSchema,
  resultFrameSchema,
  shutdownFrameSchema,
  subscribePayloadSchema,
  subscribeResultSchema,
  subscriptionFilterSchema,
  systemFrameSchema,
  unsubscribePayloadSchema,
  welcomeFrameSchema,
} from "./app-frames.ts";
export type {
  CreatedDevice,
  Device,
  DeviceCommand,
  DeviceCredentials,
  DeviceEvent,
  DeviceMetric,
  Transport,
} from "./device.ts";
export {
  commandRequestSchema,
  createdDeviceSchema,
  deviceBodySchema,
  deviceCommandSchema,
  deviceCredentialsSchema,
  deviceEventListSchema,
  deviceEventSchema,
  deviceListSchema,
  deviceMetricSchema,
  deviceSchema,
  transportSchema,
} from "./device.ts";
export type {
  CommandMessage,
  CommandResult,
  DeviceTopicSuffix,
  DeviceToStationSuffix,
  EventReport,
  Handshake,
  HandshakeAck,
  Heartbeat,
  IotFrame,
  StateReport,
  StationToDeviceSuffix,
} from "./device-messages.ts";
export {
  commandMessageSchema,
  commandResultSchema,
  DEVICE_TO_STATION_SUFFIXES,
  deviceMessageSchemas,
  deviceTopic,
  eventReportSchema,
  handshakeAckSchema,
  handshakeSchema,
  heartbeatSchema,
  iotFrameSchema,
  MAX_PAYLOAD_BYTES,
  MAX_STATE_KEYS,
  STATION_TO_DEVICE_SUFFIXES,
  stateReportSchema,
  stationIotFrameSchema,
} from "./device-messages.ts";
export type { DeviceType, DeviceTypeInfo } from "./device-types.ts";
export { deviceTypeCatalog, deviceTypeSchema, deviceTypes, deviceTypesSchema } from "./device-types.ts";
export type { DriverInfo, DriverList, DriverRevoked, DriverToken } from "./driver-api.ts";
export {
  driverDeviceSummarySchema,
  driverInfoSchema,
  driverListSchema,
  driverRevokedSchema,
  driverSessionSchema,
  driverTokenSchema,
} from "./driver-api.ts";
export type {
  ActionResultData,
  CommandCatalogEntry,
  DeviceDiscoveredData,
  DeviceUpdatedData,
  DriverActionFrame,
  DriverErrorFrame,
  DriverEventFrame,
  DriverEventName,
  DriverRegisterParams,
  StationDriverFrame,
} from "./driver-frames.ts";
export {
  actionResultDataSchema,
  commandCatalogEntrySchema,
  DRIVER_CLOSE_REPLACED,
  DRIVER_CLOSE_REVOKED,
  DRIVER_CLOSE_TIMEOUT,
  DRIVER_ERROR_CODES,
  DRIVER_EVENTS,
  DRIVER_KEY_PATTERN,
  DRIVER_KEY_RULE,
  DRIVER_PROTOCOL_VERSION,
  deviceDiscoveredDataSchema,
  deviceUpdatedDataSchema,
  driverActionFrameSchema,
  driverConnectedFrameSchema,
  driverDeviceIdSchema,
  driverErrorFrameSchema,
  driverEventDataSchemas,
  driverEventFrameSchema,
  driverKeySchema,
  driverRegisteredFrameSchema,
  driverRegisterFrameSchema,
  driverRegisterParamsSchema,
  INSTANCE_ID_RULE,
  instanceIdSchema,
  MAX_CATALOG_COMMANDS,
  MAX_DEVICE_METRICS,
  metricUpdateDataSchema,
  stateUpdateDataSchema,
  stationDriverFrameSchema,
} from "./driver-frames.ts";
export type { ErrorBody, ErrorCode } from "./errors.ts";
export { errorBodySchema, errorStatus } from "./errors.ts";
export type { PushChannel, PushData, PushEventName, PushFrame } from "./push.ts";
export {
  deviceAddedPushSchema,
  deviceEventPushSchema,
  deviceRemovedPushSchema,
  deviceStatePushSchema,
  deviceStatusPushSchema,
  provisioningCandidateSchema,
  provisioningResultSchema,
  pushFrameSchema,
} from "./push.ts";
export type { ServerFrame } from "./server-frame.ts";
export { serverFrameSchema } from "./server-frame.ts";
