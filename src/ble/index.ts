export { createBleBridgeProcess, DEFAULT_BLE_BACKOFF } from "./ble-bridge-process.ts";
export { writeBridgeScript } from "./ble-bridge-script.ts";
export type {
  BleBridgeError,
  BleBridgeProcess,
  BleBridgeProcessOptions,
  BleBridgeStatus,
  BleBridgeStatusChange,
} from "./ble-bridge-types.ts";
export type {
  BleCommand,
  BleDiscovered,
  BleHelperErrorCode,
  BleHelperMessage,
  BleWriteResult,
  ProvisioningPayload,
} from "./ble-messages.ts";
export {
  BleCommandSchema,
  BleHelperMessageSchema,
  bleHelperErrorCodes,
  connectAndWriteCommand,
  encodeCommand,
  ProvisioningPayloadSchema,
  parseHelperLine,
  startScanCommand,
  stopScanCommand,
  unavailableErrorCodes,
} from "./ble-messages.ts";
export {
  DEFAULT_PYTHON,
  defaultBridgeCommand,
  resolveBridgeCommand,
  splitCommandLine,
} from "./bridge-command.ts";
export type { ProvisioningModuleDeps } from "./provisioning-module.ts";
export { createProvisioningModule } from "./provisioning-module.ts";
export type { Candidate, ProvisioningService, ProvisionRequest } from "./provisioning-service.ts";
export {
  createProvisioningService,
  PROVISIONING_CHARACTERISTIC_UUID,
  PROVISIONING_SERVICE_UUID,
} from "./provisioning-service.ts";
