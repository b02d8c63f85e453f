/**
 * Home Assistant's MQTT discovery schema, as its documentation states it (integrations/mqtt,
 * light.mqtt "JSON schema", switch.mqtt, sensor.mqtt, binary_sensor.mqtt, climate.mqtt), for
 * the keys the station uses: no Home Assistant can run here (no PyPI, no network), so the
 * tests check configs against this. Returns every problem found, empty when the config fits.
 */

const COMPONENTS = ["light", "switch", "sensor", "binary_sensor", "climate"] as const;
type Component = (typeof COMPONENTS)[number];

/** Sensor device classes used here, with the units Home Assistant accepts for them. */
const SENSOR_UNITS: Record<string, string[]> = {
  temperature: ["°C", "°F", "K"],
  humidity: ["%"],
  battery: ["%"],
  illuminance: ["lx"],
  pressure: ["hPa", "Pa", "kPa", "bar", "mbar", "psi", "inHg", "mmHg", "cbar"],
  carbon_dioxide: ["ppm"],
  voltage: ["V", "mV", "µV", "kV", "MV"],
  pm25: ["µg/m³"],
  signal_strength: ["dB", "dBm"],
};
const BINARY_SENSOR_CLASSES = ["motion", "occupancy", "presence", "door", "window", "connectivity"];
const CLIMATE_MODES = ["auto", "off", "cool", "heat", "dry", "fan_only", "heat_cool"];
/** Required keys per component (besides the shared ones checked below). */
const REQUIRED: Record<Component, string[]> = {
  light: ["command_topic", "schema", "brightness_scale", "supported_color_modes"],
  switch: ["command_topic"],
  sensor: ["state_topic"],
  binary_sensor: ["state_topic"],
  climate: ["modes"],
};

/** `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids of `[a-zA-Z0-9_-]`. */
export function parseConfigTopic(
  prefix: string,
  topic: string,
): { component: Component; objectId: string } | undefined {
  const levels = topic.split("/");
  const prefixLevels = prefix.split("/");
  if (!prefixLevels.every((l, i) => levels[i] === l)) return undefined;
  const rest = levels.slice(prefixLevels.length);
  if (rest.length < 3 || rest.length > 4 || rest.at(-1) !== "config") return undefined;
  if (!COMPONENTS.includes(rest[0] as Component)) return undefined;
  if (!rest.slice(1, -1).every((id) => /^[a-zA-Z0-9_-]+$/.test(id!))) return undefined;
  return { component: rest[0] as Component, objectId: rest.at(-2)! };
}

const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isTopic = (v: unknown) => isString(v) && !/[+#]/.test(v);

export function discoveryProblems(component: Component, c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  for (const key of REQUIRED[component]) need(key in c, `${component}: missing ${key}`);
  for (const key of Object.keys(c).filter((k) => k.endsWith("_topic") || k === "command_topic"))
    need(isTopic(c[key]), `${key} is not a topic`);
  need(isString(c.unique_id), "unique_id");
  // unique_id needs a device for the entity to join the device registry.
  const device = c.device as Record<string, unknown> | undefined;
  need(device !== undefined, "device");
  if (device) {
    need(Array.isArray(device.identifiers) && device.identifiers.length > 0, "device.identifiers");
    need(isString(device.name), "device.name");
    for (const key of ["manufacturer", "model", "sw_version", "via_device"])
      if (key in device) need(isString(device[key]), `device.${key}`);
  }
  const origin = c.origin as Record<string, unknown> | undefined;
  need(origin !== undefined && isString(origin.name), "origin.name");
  const availability = c.availability as Record<string, unknown>[] | undefined;
  need(Array.isArray(availability) && availability.every((a) => isTopic(a.topic)), "availability[].topic");
  need(["all", "any", "latest"].includes(c.availability_mode as string), "availability_mode");
  // Deprecated by Home Assistant: object_id (now default_entity_id), the JSON light's feature flags.
  for (const key of [
    "object_id",
    ...(component === "light" ? ["brightness", "color_mode", "color_temp"] : []),
  ])
    need(!(key in c), `deprecated ${key}`);
  if ("entity_category" in c)
    need(["config", "diagnostic"].includes(c.entity_category as string), "entity_category");
  if ("state_class" in c)
    need(["measurement", "total", "total_increasing"].includes(c.state_class as string), "state_class");
  if (component === "light") {
    need(c.schema === "json", "light: schema json");
    need(c.brightness_scale === 100, "light: brightness_scale 100");
    need(JSON.stringify(c.supported_color_modes) === '["brightness"]', "light: supported_color_modes");
  }
  if (component === "sensor" && "device_class" in c) {
    const units = SENSOR_UNITS[c.device_class as string];
    need(units !== undefined, `sensor: device_class ${c.device_class}`);
    if (units) need(units.includes(c.unit_of_measurement as string), `sensor: unit ${c.unit_of_measurement}`);
  }
  if (component === "binary_sensor")
    need(BINARY_SENSOR_CLASSES.includes(c.device_class as string), "binary_sensor: device_class");
  if (component === "climate") {
    const modes = c.modes as unknown[];
    need(Array.isArray(modes) && modes.every((m) => CLIMATE_MODES.includes(m as string)), "climate: modes");
    need(isTopic(c.temperature_command_topic), "climate: temperature_command_topic");
    need(isTopic(c.current_temperature_topic), "climate: current_temperature_topic");
  }
  return problems;
}
