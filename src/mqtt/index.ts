// createEmbeddedBroker and createStationMqttClient are not re-exported: mqtt-service.ts loads
// each only when its mode is used (the MQTT.js client only with --mqtt-url, the embedded broker only without).
export type { EmbeddedBroker, EmbeddedBrokerDeps, EmbeddedBrokerStats } from "./embedded-broker.ts";
export {
  isAllowedDeviceClientId,
  isUsableDeviceId,
  mayDevicePublish,
  mayDeviceSubscribe,
} from "./mqtt-device-acl.ts";
export type { DeviceMessageHandler, MqttDeviceBridge } from "./mqtt-device-bridge.ts";
export { createMqttDeviceBridge } from "./mqtt-device-bridge.ts";
export type { IntegrationScope } from "./mqtt-integration-acl.ts";
export {
  bridgeBase,
  INTEGRATION_USERNAME_PREFIX,
  mayIntegrationPublish,
  mayIntegrationSubscribe,
} from "./mqtt-integration-acl.ts";
export type { MqttModule, MqttModuleDeps } from "./mqtt-module.ts";
export { createMqttModule } from "./mqtt-module.ts";
export type { MqttService, MqttServiceDeps } from "./mqtt-service.ts";
export { createMqttService, MqttPortInUseError } from "./mqtt-service.ts";
export type {
  DeviceTopicSuffix,
  DeviceToStationSuffix,
  ParsedDeviceTopic,
  StationToDeviceSuffix,
} from "./mqtt-topics.ts";
export {
  DEVICE_TO_STATION_SUFFIXES,
  deviceTopic,
  deviceToStationFilters,
  parseDeviceTopic,
  STATION_TO_DEVICE_SUFFIXES,
  sharedFilters,
  shareGroup,
} from "./mqtt-topics.ts";
export type { MqttUrl } from "./mqtt-url.ts";
export { parseMqttUrl, redactMqttUrl } from "./mqtt-url.ts";
export type {
  MessageHandler,
  PublishOptions,
  StationMqttClient,
  StationMqttClientDeps,
  StatusHandler,
} from "./station-mqtt-client.ts";
