import {
  createSimulatedDevice,
  type SimulatedDevice,
  type SimulatedDeviceOptions,
} from "../../firmware-sim/index.ts";
import {
  type CreatedDevice,
  createdDeviceSchema,
  type Device,
  type DeviceCredentials,
  deviceBodySchema,
} from "../../src/protocol/index.ts";
import type { TestStation } from "./test-station.ts";

/** Registers a device through the API, as an admin would; the body must be the protocol's. */
export async function addDevice(
  s: TestStation,
  token: string,
  name: string,
  type: string,
): Promise<CreatedDevice> {
  const res = await s.api("/api/devices", { method: "POST", token, body: JSON.stringify({ name, type }) });
  if (res.status !== 201) throw new Error(`POST /api/devices: ${res.status} ${await res.text()}`);
  return createdDeviceSchema.parse(await res.json());
}

export async function getDevice(s: TestStation, token: string, id: string): Promise<Device> {
  const res = await s.api(`/api/devices/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET device: ${res.status} ${await res.text()}`);
  return deviceBodySchema.parse(await res.json()).device;
}

/** Boots a firmware-sim device with the credentials the station handed out. */
export function simFor(
  credentials: DeviceCredentials,
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
