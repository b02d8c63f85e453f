import { z } from "@hono/zod-openapi";

export const deviceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    transport: z.enum(["mqtt", "iot-ws", "driver"]),
    online: z.boolean(),
    lastSeen: z.number().nullable(),
    firmwareVersion: z.string().nullable(),
    state: z.record(z.string(), z.unknown()),
    createdAt: z.number(),
  })
  .openapi("Device");

export const credentialsSchema = z
  .object({
    stationId: z.string(),
    deviceId: z.string(),
    mqttHost: z.string(),
    mqttPort: z.number().int(),
    mqttUsername: z.string(),
    mqttPassword: z.string(),
  })
  .openapi("DeviceCredentials");
export type DeviceCredentials = z.infer<typeof credentialsSchema>;

export const deviceNameSchema = z.string().trim().min(1).max(100);

export const eventSchema = z
  .object({ id: z.number().int(), deviceId: z.string(), kind: z.string(), data: z.unknown(), at: z.number() })
  .openapi("DeviceEvent");

export const deviceTypesSchema = z
  .object({
    deviceTypes: z.array(
      z.object({
        type: z.string(),
        commands: z.array(z.object({ action: z.string(), params: z.record(z.string(), z.unknown()) })),
      }),
    ),
  })
  .openapi("DeviceTypes");

export const idParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
