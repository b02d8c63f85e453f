/**
 * What a device may do on the embedded broker (CONTRACT.md section 3). Pure functions so the
 * rules are unit-tested without a socket; the broker guard only wires them into the embedded broker.
 */
import {
  DEVICE_TO_STATION_SUFFIXES,
  deviceTopic,
  isValidTopicLevel,
  STATION_TO_DEVICE_SUFFIXES,
} from "./mqtt-topics.ts";

/**
 * Client id must be the device id or `<deviceId>-<suffix>` (a second connection), so one
 * device can never present another device's client id and take over its session.
 */
export function isAllowedDeviceClientId(deviceId: string, clientId: string): boolean {
  if (clientId === deviceId) return true;
  return clientId.length > deviceId.length + 1 && clientId.startsWith(`${deviceId}-`);
}

/** A device id has to be one plain topic level, or its topics could alias another device's. */
export function isUsableDeviceId(deviceId: string): boolean {
  return isValidTopicLevel(deviceId);
}

/** Exact topics only: a device never publishes into a filter or another device's tree. */
export function mayDevicePublish(stationId: string, deviceId: string, topic: string): boolean {
  return DEVICE_TO_STATION_SUFFIXES.some((suffix) => deviceTopic(stationId, deviceId, suffix) === topic);
}

/** Exact topics only, so `+`/`#` filters that would reach other devices are refused. */
export function mayDeviceSubscribe(stationId: string, deviceId: string, topicFilter: string): boolean {
  return STATION_TO_DEVICE_SUFFIXES.some(
    (suffix) => deviceTopic(stationId, deviceId, suffix) === topicFilter,
  );
}
