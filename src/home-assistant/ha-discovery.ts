/**
 * Home Assistant MQTT discovery (CONTRACT.md section 9), as pure functions: a device's configs
 * (one entity per capability), its state in Home Assistant's shape, and the station's own
 * device. Full keys, no abbreviations; the schema they follow is encoded in
 * tests/home-assistant-schema.ts from Home Assistant's documentation.
 */
import type { LiveDevice } from "../devices/index.ts";
import { bridgeBase } from "../mqtt/index.ts";

export interface HaContext {
  stationId: string;
  prefix: string;
  version: string;
}

export interface DiscoveryConfig {
  /** `<prefix>/<component>/<node_id>/<object_id>/config`. */
  topic: string;
  payload: Record<string, unknown>;
}

/** One topic level as Home Assistant's node_id/object_id allow: `[a-zA-Z0-9_-]`. */
export function topicId(value: string): string {
  return value.replace(/[^a-zA-Z0-9_-]/g, "_");
}

export const haTopics = (stationId: string) => {
  const base = bridgeBase(stationId);
  return {
    bridgeAvailability: `${base}/bridge/availability`,
    bridgeState: `${base}/bridge/state`,
    // A driver's device id may hold '/', '+' or '#': one safe topic level stands for it.
    deviceState: (deviceId: string) => `${base}/device/${topicId(deviceId)}/state`,
    deviceAvailability: (deviceId: string) => `${base}/device/${topicId(deviceId)}/availability`,
    deviceSet: (deviceId: string) => `${base}/device/${topicId(deviceId)}/set`,
    /** Climate's target temperature command. */
    deviceSetTarget: (deviceId: string) => `${base}/device/${topicId(deviceId)}/set/target_temperature`,
  };
};

/** What the numeric sensor keys of CONTRACT.md section 3 mean to Home Assistant. */
const SENSOR_KEYS: Record<string, { device_class?: string; unit_of_measurement?: string }> = {
  temperature: { device_class: "temperature", unit_of_measurement: "°C" },
  humidity: { device_class: "humidity", unit_of_measurement: "%" },
  battery: { device_class: "battery", unit_of_measurement: "%" },
  illuminance: { device_class: "illuminance", unit_of_measurement: "lx" },
  pressure: { device_class: "pressure", unit_of_measurement: "hPa" },
  co2: { device_class: "carbon_dioxide", unit_of_measurement: "ppm" },
  voltage: { device_class: "voltage", unit_of_measurement: "V" },
  pm25: { device_class: "pm25", unit_of_measurement: "µg/m³" },
};

/** Keys that are never a sensor entity of their own. */
const NOT_SENSORS = new Set(["power", "brightness", "motion", "current_celsius", "target_celsius", "rssi"]);

const stationIdentifier = (stationId: string) => `opengenie_${topicId(stationId)}`;
const nodeId = (stationId: string) => `opengenie_${topicId(stationId)}`;

function origin(ctx: HaContext) {
  return {
    name: "OpenGenie Station",
    sw_version: ctx.version,
    support_url: "https://github.com/opengenie/station",
  };
}

/** `power` is "on"/"off" or true/false (CONTRACT.md section 3). */
export function isOn(power: unknown): boolean {
  return power === true || power === "on";
}

/** The numeric keys that get a sensor entity. */
function sensorKeys(device: LiveDevice): string[] {
  return Object.entries(device.state)
    .filter(
      ([key, value]) => typeof value === "number" && !NOT_SENSORS.has(key) && /^[a-zA-Z0-9_]+$/.test(key),
    )
    .map(([key]) => key)
    .sort();
}

/**
 * What a device's configs depend on besides the station's constants: `deviceConfigs` gives the
 * same result for two devices with the same signature, so the bridge rebuilds and compares
 * configs only when this changes (a state report with new values only does not change it).
 */
export function configSignature(device: LiveDevice): string {
  return [
    device.name,
    device.type,
    device.firmwareVersion ?? "",
    typeof device.state.rssi,
    ...sensorKeys(device),
  ].join("\u0000");
}

/** A device's entities: one per capability, plus diagnostics (RSSI, firmware) where known. */
export function deviceConfigs(ctx: HaContext, device: LiveDevice): DiscoveryConfig[] {
  const t = haTopics(ctx.stationId);
  const id = topicId(device.id);
  const uniqueBase = `opengenie_${topicId(ctx.stationId)}_${id}`;
  const common = {
    state_topic: t.deviceState(device.id),
    availability: [{ topic: t.bridgeAvailability }, { topic: t.deviceAvailability(device.id) }],
    availability_mode: "all",
    payload_available: "online",
    payload_not_available: "offline",
    device: {
      identifiers: [uniqueBase, device.id],
      name: device.name,
      manufacturer: "OpenGenie",
      model: device.type,
      ...(device.firmwareVersion ? { sw_version: device.firmwareVersion } : {}),
      via_device: stationIdentifier(ctx.stationId),
    },
    origin: origin(ctx),
  };
  const configs: DiscoveryConfig[] = [];
  const add = (component: string, key: string, payload: Record<string, unknown>) =>
    configs.push({
      topic: `${ctx.prefix}/${component}/${nodeId(ctx.stationId)}/${id}_${key}/config`,
      payload: { ...common, unique_id: `${uniqueBase}_${key}`, ...payload },
    });
  const numeric = (key: string) => `{{ value_json.${key} }}`;

  if (device.type === "light")
    add("light", "light", {
      name: null,
      schema: "json",
      command_topic: t.deviceSet(device.id),
      // Brightness support is implied by the color mode (the `brightness` flag is deprecated).
      brightness_scale: 100,
      supported_color_modes: ["brightness"],
    });
  if (device.type === "switch")
    add("switch", "switch", {
      name: null,
      command_topic: t.deviceSet(device.id),
      value_template: "{{ value_json.state }}",
      payload_on: "ON",
      payload_off: "OFF",
      state_on: "ON",
      state_off: "OFF",
    });
  if (device.type === "pir")
    add("binary_sensor", "motion", {
      name: "Motion",
      device_class: "motion",
      value_template: "{{ value_json.motion }}",
      payload_on: "ON",
      payload_off: "OFF",
    });
  if (device.type === "climate")
    add("climate", "climate", {
      name: null,
      modes: ["heat"],
      temperature_unit: "C",
      precision: 0.1,
      temp_step: 0.5,
      min_temp: -40,
      max_temp: 80,
      current_temperature_topic: t.deviceState(device.id),
      current_temperature_template: numeric("current_celsius"),
      temperature_state_topic: t.deviceState(device.id),
      temperature_state_template: numeric("target_celsius"),
      temperature_command_topic: t.deviceSetTarget(device.id),
    });
  for (const key of sensorKeys(device))
    add("sensor", key, {
      name: key.charAt(0).toUpperCase() + key.slice(1).replaceAll("_", " "),
      state_class: "measurement",
      value_template: numeric(key),
      ...SENSOR_KEYS[key],
    });
  if (typeof device.state.rssi === "number")
    add("sensor", "rssi", {
      name: "RSSI",
      device_class: "signal_strength",
      unit_of_measurement: "dBm",
      entity_category: "diagnostic",
      state_class: "measurement",
      value_template: numeric("rssi"),
    });
  if (device.firmwareVersion)
    add("sensor", "firmware", {
      name: "Firmware",
      entity_category: "diagnostic",
      value_template: "{{ value_json.firmware }}",
    });
  return configs;
}

/** The device's state as its entities read it (the light's JSON schema, ON/OFF, numbers). */
export function haState(device: LiveDevice): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(device.state)) if (typeof value === "number") out[key] = value;
  if ("power" in device.state) out.state = isOn(device.state.power) ? "ON" : "OFF";
  if (device.type === "light") out.color_mode = "brightness";
  if ("motion" in device.state) out.motion = device.state.motion === true ? "ON" : "OFF";
  if (device.firmwareVersion) out.firmware = device.firmwareVersion;
  return out;
}

/** The station itself: a device with its version and how many devices are online. */
export function stationConfigs(ctx: HaContext): DiscoveryConfig[] {
  const t = haTopics(ctx.stationId);
  const node = nodeId(ctx.stationId);
  const device = {
    identifiers: [stationIdentifier(ctx.stationId)],
    name: `OpenGenie Station ${ctx.stationId}`,
    manufacturer: "OpenGenie",
    model: "OpenGenie Station",
    sw_version: ctx.version,
  };
  const common = {
    state_topic: t.bridgeState,
    availability: [{ topic: t.bridgeAvailability }],
    availability_mode: "all",
    payload_available: "online",
    payload_not_available: "offline",
    device,
    origin: origin(ctx),
  };
  return [
    {
      topic: `${ctx.prefix}/sensor/${node}/station_devices_online/config`,
      payload: {
        ...common,
        unique_id: `${node}_devices_online`,
        name: "Devices online",
        state_class: "measurement",
        value_template: "{{ value_json.devices_online }}",
      },
    },
    {
      topic: `${ctx.prefix}/sensor/${node}/station_version/config`,
      payload: {
        ...common,
        unique_id: `${node}_version`,
        name: "Version",
        entity_category: "diagnostic",
        value_template: "{{ value_json.version }}",
      },
    },
  ];
}
