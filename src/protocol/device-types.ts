import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * What each device type accepts as commands (CONTRACT.md section 2, `/api/device-types`): the
 * params a command carries beside its `action` (section 3).
 */
const noParams = deferred(() => z.object({}).strict());
const power = { turn_on: noParams, turn_off: noParams, toggle: noParams };
const common = {
  reboot: noParams,
  factory_reset: noParams,
  // Firmware only from an authenticated origin: file:, http: or javascript: never reach a device.
  ota_update: z.object({ url: z.url({ protocol: /^https$/, error: "must be an https:// URL" }) }).strict(),
};

export const deviceTypeCatalog = {
  light: {
    ...power,
    set_brightness: z.object({ brightness: z.number().int().min(0).max(100) }).strict(),
    ...common,
  },
  switch: { ...power, ...common },
  sensor: { ...common },
  pir: { ...common },
  climate: { set_target: z.object({ celsius: z.number().min(-40).max(80) }).strict(), ...common },
} as const satisfies Record<string, Record<string, z.ZodType>>;

export type DeviceType = keyof typeof deviceTypeCatalog;
export const deviceTypes = Object.keys(deviceTypeCatalog) as [DeviceType, ...DeviceType[]];
export const deviceTypeSchema = deferred(() => z.enum(deviceTypes));

/** `GET /api/device-types`: the catalog with each command's params as JSON Schema. */
export const deviceTypesSchema = deferred(() =>
  z
    .object({
      deviceTypes: z.array(
        z.object({
          type: z.string(),
          commands: z.array(z.object({ action: z.string(), params: z.record(z.string(), z.unknown()) })),
        }),
      ),
    })
    .meta({ id: "DeviceTypes" }),
);
export type DeviceTypeInfo = z.infer<typeof deviceTypesSchema>["deviceTypes"][number];
