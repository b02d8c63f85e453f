/**
 * Reading a device's state the way CONTRACT.md section 3 spells it out: `power` arrives as
 * "on"/"off" or as true/false and both mean the same; other keys are readings with units.
 */

export function powerIsOn(value: unknown): boolean {
  return value === true || value === "on";
}

const UNITS: Record<string, string> = {
  temperature: " °C",
  current_celsius: " °C",
  target_celsius: " °C",
  humidity: " %",
  battery: " %",
  illuminance: " lx",
};

const LABELS: Record<string, string> = {
  current_celsius: "Room",
  target_celsius: "Target",
};

/** The state keys a card shows as text (the controls show power and brightness). */
export function readings(state: Record<string, unknown>): { label: string; value: string }[] {
  return Object.entries(state)
    .filter(([key]) => key !== "power" && key !== "brightness")
    .map(([key, value]) => ({
      label: LABELS[key] ?? capitalize(key.replace(/_/g, " ")),
      value: show(key, value),
    }));
}

function show(key: string, value: unknown): string {
  if (key === "motion") return value === true ? "motion" : "clear";
  if (typeof value === "number") return `${value}${UNITS[key] ?? ""}`;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A heading per device type, for the grouped list. */
export function typeHeading(type: string): string {
  const known: Record<string, string> = {
    light: "Lights",
    switch: "Switches",
    sensor: "Sensors",
    pir: "Motion sensors",
    climate: "Climate",
  };
  return Object.hasOwn(known, type) ? (known[type] as string) : capitalize(type);
}

/** What an event in a device's history says, in a line. */
export function describeEvent(kind: string, data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  if (kind === "command") {
    if (typeof d.action === "string") {
      const params = d.params && Object.keys(d.params).length ? ` ${JSON.stringify(d.params)}` : "";
      return `Command sent: ${d.action}${params}`;
    }
    if (d.ok === true) return "Device confirmed the command";
    return `Device answered an error: ${typeof d.error === "string" ? d.error : "no reason given"}`;
  }
  if (kind === "state")
    return `State: ${Object.entries(d)
      .map(([k, v]) => `${k} ${k === "power" ? (powerIsOn(v) ? "on" : "off") : show(k, v)}`)
      .join(", ")}`;
  if (kind === "status") return d.online === false || d.status === "offline" ? "Went offline" : "Came online";
  return `${kind.replace(/_/g, " ")}: ${JSON.stringify(data)}`;
}
