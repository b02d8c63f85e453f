import {
  createSimulatedDevice,
  type SimulatedDevice,
  type SimulatedDeviceOptions,
} from "../../firmware-sim/index.ts";
import type { TestStation } from "./test-station.ts";

export interface Credentials {
  stationId: string;
  deviceId: string;
  mqttHost: string;
  mqttPort: number;
  mqttUsername: string;
  mqttPassword: string;
}

export interface DeviceJson {
  id: string;
  name: string;
  type: string;
  transport: string;
  online: boolean;
  state: Record<string, unknown>;
  firmwareVersion: string | null;
  lastSeen: number | null;
}

/** Registers a device through the API, as an admin would. */
export async function addDevice(s: TestStation, token: string, name: string, type: string) {
  const res = await s.api("/api/devices", { method: "POST", token, body: JSON.stringify({ name, type }) });
  if (res.status !== 201) throw new Error(`POST /api/devices: ${res.status} ${await res.text()}`);
  return (await res.json()) as { device: DeviceJson; credentials: Credentials };
}

export async function getDevice(s: TestStation, token: string, id: string): Promise<DeviceJson> {
  const res = await s.api(`/api/devices/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET device: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { device: DeviceJson }).device;
}

/** Boots a firmware-sim device with the credentials the station handed out. */
export function simFor(
  credentials: Credentials,
  type: SimulatedDeviceOptions["type"],
  extra: Partial<SimulatedDeviceOptions> = {},
): SimulatedDevice {
  return createSimulatedDevice({
    url: `mqtt://${credentials.mqttHost}:${credentials.mqttPort}`,
    stationId: credentials.stationId,
    deviceId: credentials.deviceId,
    token: credentials.mqttPassword,
    type,
    reconnectPeriodMs: 200,
    startTimeoutMs: 5000,
    ...extra,
  });
}

/** Polls until `check` passes or the time runs out; returns the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await Bun.sleep(25);
    value = await read();
  }
  return value;
}
