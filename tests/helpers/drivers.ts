import { expect } from "bun:test";
import { cli, type TestStation } from "./test-station.ts";
import { openSocket, type TestSocket } from "./ws-client.ts";

/** A driver's socket on `/driver`: the test client plus a way to send any frame, raw or not. */
export type DriverSocket = TestSocket & { send(frame: unknown): void };

/** `opengenie driver token <driverKey>` on the station's data dir (through the running station). */
export async function driverToken(s: TestStation, driverKey: string): Promise<string> {
  const result = await cli(s.dataDir, ["driver", "token", driverKey]);
  if (result.code !== 0) throw new Error(`driver token: ${result.stderr}`);
  return result.stdout.trim();
}

/** Opens `/driver` with the token in the query (or as `Authorization: Bearer`) and reads CONNECTED. */
export async function connectDriver(
  s: TestStation,
  auth: { token?: string; as?: "query" | "header" } = {},
): Promise<DriverSocket> {
  const inHeader = auth.token && auth.as === "header";
  const url = `${s.wsUrl}/driver${auth.token && !inHeader ? `?token=${auth.token}` : ""}`;
  const socket = await openSocket(
    url,
    undefined,
    inHeader ? { headers: { authorization: `Bearer ${auth.token}` } } : {},
  );
  expect(await socket.next()).toEqual({ event: "CONNECTED", ok: true });
  return Object.assign(socket, {
    send: (frame: unknown) => socket.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
  });
}

export async function registerDriver(d: DriverSocket, driverKey: string, instanceId: string) {
  d.send({ method: "driver.register", params: { driverKey, instanceId, protocolVersion: 1 } });
  expect(await d.next()).toEqual({ event: "REGISTERED", ok: true, driverKey, instanceId });
}

/** A thermostat's command catalog, as a HOS driver announces it. */
export const thermostatCatalog = [
  {
    key: "set_target",
    label: "Setpoint",
    payloadSchema: {
      type: "object",
      required: ["celsius"],
      additionalProperties: false,
      properties: { celsius: { type: "number", minimum: 5, maximum: 30 } },
    },
  },
  { key: "refresh_state", label: "Refresh" },
];

export function discovered(deviceId: string, name = "Hall thermostat", catalog: unknown = thermostatCatalog) {
  return {
    event: "DEVICE_DISCOVERED",
    device_id: deviceId,
    data: {
      name,
      deviceType: "climate",
      properties: { manufacturer: "Acme", model: "T-1", commandCatalog: catalog },
    },
  };
}

/** Sends a frame and returns the next one the station sends back. */
export async function answerTo(d: DriverSocket, frame: unknown): Promise<Record<string, unknown>> {
  d.send(frame);
  return d.next();
}

/** The station's id for a driver's device, once `GET /api/drivers` lists it. */
export async function stationIdOf(
  s: TestStation,
  adminToken: string,
  driverKey: string,
  driverDeviceId: string,
): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await s.api("/api/drivers", { token: adminToken });
    const { drivers } = (await res.json()) as {
      drivers: { driverKey: string; devices: { id: string; deviceId: string }[] }[];
    };
    const found = drivers
      .find((d) => d.driverKey === driverKey)
      ?.devices.find((d) => d.deviceId === driverDeviceId);
    if (found) return found.id;
    if (Date.now() > deadline) throw new Error(`${driverKey} ${driverDeviceId} was not listed in time`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
