export type { CommandDispatcher, CommandSink } from "./command-dispatcher.ts";
export { MAX_WAIT_MS } from "./command-dispatcher.ts";
export type { DeviceMessageSuffix, RejectCode } from "./device-messages.ts";
export { parseDeviceMessage } from "./device-messages.ts";
export type { DeviceRegistry, LiveDevice, Transport } from "./device-registry.ts";
export { DEFAULT_HEARTBEAT_SEC, newDeviceId, summarize } from "./device-registry.ts";
export type { DeviceService } from "./device-service.ts";
export { createDeviceService } from "./device-service.ts";
export type { DeviceType, DeviceTypeInfo } from "./device-types.ts";
export {
  describeDeviceTypes,
  deviceTypeSchema,
  requireCommandRole,
  validateCommand,
} from "./device-types.ts";
