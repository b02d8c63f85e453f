/**
 * Topic layout of the device protocol (CONTRACT.md section 3):
 * `station/{stationId}/device/{deviceId}/<suffix>`.
 */

/** What a device sends to the station. */
export const DEVICE_TO_STATION_SUFFIXES = [
  "handshake",
  "state",
  "event",
  "heartbeat",
  "command/result",
] as const;

/** What the station sends to a device. */
export const STATION_TO_DEVICE_SUFFIXES = ["handshake/ack", "command"] as const;

export type DeviceToStationSuffix = (typeof DEVICE_TO_STATION_SUFFIXES)[number];
export type StationToDeviceSuffix = (typeof STATION_TO_DEVICE_SUFFIXES)[number];
export type DeviceTopicSuffix = DeviceToStationSuffix | StationToDeviceSuffix;

export interface ParsedDeviceTopic {
  stationId: string;
  deviceId: string;
  suffix: DeviceTopicSuffix;
}

const ALL_SUFFIXES: readonly string[] = [...DEVICE_TO_STATION_SUFFIXES, ...STATION_TO_DEVICE_SUFFIXES];

export function deviceTopic(stationId: string, deviceId: string, suffix: DeviceTopicSuffix): string {
  return `station/${stationId}/device/${deviceId}/${suffix}`;
}

/** The station's subscription for every device→station message of one station. */
export function deviceToStationFilters(stationId: string): string[] {
  return DEVICE_TO_STATION_SUFFIXES.map((suffix) => `station/${stationId}/device/+/${suffix}`);
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
