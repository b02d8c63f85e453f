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
export type { CreatedDevice, Device, DeviceCredentials, DeviceEvent, Transport } from "./device.ts";
export {
  commandRequestSchema,
  createdDeviceSchema,
  deviceBodySchema,
  deviceCredentialsSchema,
  deviceEventListSchema,
  deviceEventSchema,
  deviceListSchema,
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
export type { ErrorBody, ErrorCode } from "./errors.ts";
export { errorBodySchema, errorStatus } from "./errors.ts";
export type {
  ModuleEvent,
  ModuleIdentity,
  ModuleLabels,
  ModuleServerEventData,
  ModuleServerEventType,
  RegisteredModule,
  RouteDestination,
  RouteTargetExpression,
} from "./module-frames.ts";
export {
  announceDataSchema,
  authenticateDataSchema,
  CLOSE_MODULE_HEARTBEAT_TIMEOUT,
  extensionAnnounceDataSchema,
  extensionModuleIdentitySchema,
  heartbeatDataSchema,
  MAX_EXPRESSION_DEPTH,
  MODULE_INVALID_TOKEN,
  MODULE_NAME_MAX,
  MODULE_NOT_AUTHENTICATED,
  moduleDeviceCommandResultSchema,
  moduleDeviceCommandSchema,
  moduleEventMetadataSchema,
  moduleEventSchema,
  moduleIdentitySchema,
  moduleLabelsSchema,
  moduleRouteSchema,
  moduleServerEventData,
  pluginInstanceIdentitySchema,
  pluginModuleIdentitySchema,
  registeredModuleSchema,
  routeDestinationSchema,
  routeDestinationsSchema,
  routeTargetExpressionSchema,
  uiConfigureDataSchema,
} from "./module-frames.ts";
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
