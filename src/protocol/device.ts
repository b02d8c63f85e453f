import { z } from "zod";
import { deferred } from "./deferred.ts";

/** A device as the API, `/ws` and the bus show it (`GET /api/devices`, `device.added`). */
export const transportSchema = deferred(() => z.enum(["mqtt", "iot-ws", "driver"]));
export type Transport = z.infer<typeof transportSchema>;

/** A driver device's latest reading (`METRIC_UPDATE`, CONTRACT.md section 4). */
export const deviceMetricSchema = deferred(() =>
  z.object({
    key: z.string().min(1).max(64),
    value: z.union([z.number(), z.string().max(1024), z.boolean(), z.null()]),
    unit: z.string().max(32).nullish(),
  }),
);
export type DeviceMetric = z.infer<typeof deviceMetricSchema>;

/** A command a driver's device takes, from its command catalog; `params` is JSON Schema. */
export const deviceCommandSchema = deferred(() =>
  z.object({
    action: z.string(),
    label: z.string().optional(),
    params: z.union([z.record(z.string(), z.unknown()), z.boolean()]).optional(),
  }),
);
export type DeviceCommand = z.infer<typeof deviceCommandSchema>;

export const deviceSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      type: z.string(),
      transport: transportSchema,
      online: z.boolean(),
      lastSeen: z.number().nullable(),
      firmwareVersion: z.string().nullable(),
      state: z.record(z.string(), z.unknown()),
      createdAt: z.number(),
      /** Driver devices: the commands their driver announced (other types: `GET /api/device-types`). */
      commands: z.array(deviceCommandSchema).optional(),
      /** Driver devices: the latest metrics their driver sent. */
      metrics: z.array(deviceMetricSchema).optional(),
    })
    .meta({ id: "Device" }),
);
export type Device = z.infer<typeof deviceSchema>;

/** What a new device is handed once, to join the broker (`POST /api/devices`). */
export const deviceCredentialsSchema = deferred(() =>
  z
    .object({
      stationId: z.string(),
      deviceId: z.string(),
      mqttHost: z.string(),
      mqttPort: z.number().int(),
      mqttUsername: z.string(),
      mqttPassword: z.string(),
    })
    .meta({ id: "DeviceCredentials" }),
);
export type DeviceCredentials = z.infer<typeof deviceCredentialsSchema>;

/** One stored event (`GET /api/devices/{id}/events`, `events.query`). */
export const deviceEventSchema = deferred(() =>
  z
    .object({
      id: z.number().int(),
      deviceId: z.string(),
      kind: z.string(),
      data: z.unknown(),
      at: z.number(),
    })
    .meta({ id: "DeviceEvent" }),
);
export type DeviceEvent = z.infer<typeof deviceEventSchema>;

/** A command for a device (`POST /api/devices/{id}/commands`, `/ws` `devices.command`). */
export const commandRequestSchema = deferred(() =>
  z
    .object({ action: z.string().min(1).max(64), params: z.record(z.string(), z.unknown()).optional() })
    .meta({ id: "Command" }),
);

/** Response bodies that carry devices and events. */
export const deviceBodySchema = deferred(() => z.object({ device: deviceSchema }));
export const deviceListSchema = deferred(() => z.object({ devices: z.array(deviceSchema) }));
export const createdDeviceSchema = deferred(() =>
  z.object({ device: deviceSchema, credentials: deviceCredentialsSchema }),
);
export type CreatedDevice = z.infer<typeof createdDeviceSchema>;
export const deviceEventListSchema = deferred(() => z.object({ events: z.array(deviceEventSchema) }));
