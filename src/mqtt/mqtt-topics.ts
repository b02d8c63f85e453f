/**
 * Topic layout of the device protocol (CONTRACT.md section 3):
 * `station/{stationId}/device/{deviceId}/<suffix>`.
 */

import {
  DEVICE_TO_STATION_SUFFIXES,
  type DeviceTopicSuffix,
  deviceTopic,
  STATION_TO_DEVICE_SUFFIXES,
} from "../protocol/index.ts";

export type { DeviceTopicSuffix, DeviceToStationSuffix, StationToDeviceSuffix } from "../protocol/index.ts";
export { DEVICE_TO_STATION_SUFFIXES, deviceTopic, STATION_TO_DEVICE_SUFFIXES };

export interface ParsedDeviceTopic {
  stationId: string;
  deviceId: string;
  suffix: DeviceTopicSuffix;
}

const ALL_SUFFIXES: readonly string[] = [...DEVICE_TO_STATION_SUFFIXES, ...STATION_TO_DEVICE_SUFFIXES];

/** The station's subscription for every device→station message of one station. */
export function deviceToStationFilters(stationId: string): string[] {
  return DEVICE_TO_STATION_SUFFIXES.map((suffix) => `station/${stationId}/device/+/${suffix}`);
}

/** The shared-subscription group of one station's instances: every message goes to one of them. */
export function shareGroup(stationId: string): string {
  return `opengenie-${stationId}`;
}

/** `$share/<group>/<filter>` (MQTT 5 shared subscriptions, also accepted by Mosquitto and EMQX on 3.1.1). */
export function sharedFilters(stationId: string, filters: readonly string[]): string[] {
  return filters.map((filter) => `$share/${shareGroup(stationId)}/${filter}`);
}

function isSuffix(value: string): value is DeviceTopicSuffix {
  return ALL_SUFFIXES.includes(value);
}

/**
 * Splits a concrete topic; returns null for anything that is not exactly a device topic,
 * including empty ids and ids holding MQTT wildcards, so callers never route on a filter.
 */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const parts = topic.split("/");
  if (parts.length < 5 || parts[0] !== "station" || parts[2] !== "device") return null;
  const stationId = parts[1]!;
  const deviceId = parts[3]!;
  const suffix = parts.slice(4).join("/");
  if (!isValidTopicLevel(stationId) || !isValidTopicLevel(deviceId) || !isSuffix(suffix)) return null;
  return { stationId, deviceId, suffix };
}

/** A single topic level that is usable as an id: non-empty and free of wildcards. */
export function isValidTopicLevel(level: string): boolean {
  return level.length > 0 && !/[/+#]/.test(level);
}
