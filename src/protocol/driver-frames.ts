import { z } from "zod";
import { deferred } from "./deferred.ts";
import { deviceMetricSchema } from "./device.ts";

/**
 * `/driver` (CONTRACT.md section 4): the HOS driver protocol, version 1, as Haptique OS drivers
 * speak it (wiki.haptique.io: driver lifecycle, troubleshooting) and as the drivers published for
 * it actually send it (aliases below). The station validates with these schemas, the driver SDK
 * (`sdk/driver/`) builds its frames from them, and the tests check every frame the station sends.
 */

export const DRIVER_PROTOCOL_VERSION = 1;

/** A newer session with the same driverKey and instanceId took over. The SDK does not reconnect. */
export const DRIVER_CLOSE_REPLACED = 4001;
/** No pong to the station's ping in time, or no `driver.register` in time. */
export const DRIVER_CLOSE_TIMEOUT = 4000;
/** The driver's token was revoked, or it is not allowed the driverKey it registered. */
export const DRIVER_CLOSE_REVOKED = 4003;

/** The detail lines HOS answers with; drivers and their authors search for these words. */
export const DRIVER_KEY_RULE = "driverKey must match [A-Z0-9_] and be 2-64 chars.";
export const INSTANCE_ID_RULE = "instanceId must match [a-zA-Z0-9:_-] and be 1-128 chars.";

export const DRIVER_KEY_PATTERN = /^[A-Z0-9_]{2,64}$/;
export const driverKeySchema = deferred(() =>
  z.string({ error: DRIVER_KEY_RULE }).regex(DRIVER_KEY_PATTERN, DRIVER_KEY_RULE),
);
export const instanceIdSchema = deferred(() =>
  z.string({ error: INSTANCE_ID_RULE }).regex(/^[a-zA-Z0-9:_-]{1,128}$/, INSTANCE_ID_RULE),
);

/**
 * `{"method":"driver.register","params":{…}}`. The fields are checked one by one by the station
 * so that each problem gets HOS's own message; `protocolVersion` may also sit at the top level
 * (the BYD vehicle driver sends it there).
 */
export const driverRegisterFrameSchema = deferred(() =>
  z.looseObject({
    method: z.literal("driver.register"),
    params: z.looseObject({}).optional(),
    protocolVersion: z.unknown().optional(),
  }),
);
export const driverRegisterParamsSchema = deferred(() =>
  z.object({
    driverKey: driverKeySchema,
    instanceId: instanceIdSchema,
    name: z
      .string({ error: "name must be a string of at most 128 chars." })
      .max(128, "name must be a string of at most 128 chars.")
      .optional(),
  }),
);
export type DriverRegisterParams = z.infer<typeof driverRegisterParamsSchema>;

export const DRIVER_EVENTS = [
  "DEVICE_DISCOVERED",
  "DEVICE_UPDATED",
  "STATE_UPDATE",
  "METRIC_UPDATE",
  "ACTION_RESULT",
] as const;
export type DriverEventName = (typeof DRIVER_EVENTS)[number];

/** The driver's own id for a device (`device_id`); BYD's are like `byd:3f1c…`. */
export const driverDeviceIdSchema = deferred(() =>
  z.union([z.string().min(1).max(128), z.number().int().transform(String)]),
);

/**
 * A driver event as sent, with the aliases published drivers use: `type` for `event`, `payload`
 * for `data`, `data.deviceId` (or `data.device_id`) for `device_id`, and an extra `driver` field.
 */
export const driverEventFrameSchema = deferred(() =>
  z
    .looseObject({
      // Checked after aliasing: the frame's name may be anything a driver got wrong.
      event: z.unknown().optional(),
      type: z.unknown().optional(),
      device_id: z.unknown().optional(),
      data: z.unknown().optional(),
      payload: z.unknown().optional(),
    })
    .transform((f) => {
      const data = f.data ?? f.payload;
      const inner = data !== null && typeof data === "object" ? (data as Record<string, unknown>) : {};
      return {
        event: f.event ?? f.type,
        deviceId: f.device_id ?? inner.deviceId ?? inner.device_id,
        data,
        requestId: f.requestId ?? f.correlationId,
      };
    }),
);

/** One command a driver's device takes; `key` becomes the command's `action`. */
export const commandCatalogEntrySchema = deferred(() =>
  z.looseObject({
    key: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "key must match [A-Za-z0-9_.:-] and be 1-64 chars"),
    label: z.string().max(128).nullish(),
    /** JSON Schema (draft-07) for the command's payload; omitted = any object. */
    payloadSchema: z.union([z.record(z.string(), z.unknown()), z.boolean()]).nullish(),
  }),
);
export type CommandCatalogEntry = z.infer<typeof commandCatalogEntrySchema>;

export const MAX_CATALOG_COMMANDS = 64;
export const MAX_DEVICE_METRICS = 256;

const catalogSchema = deferred(() =>
  z
    .array(commandCatalogEntrySchema)
    .max(MAX_CATALOG_COMMANDS)
    .refine((c) => new Set(c.map((e) => e.key)).size === c.length, "command keys must be unique"),
);

const devicePropertiesSchema = deferred(() =>
  z.looseObject({
    commandCatalog: catalogSchema.optional(),
    manufacturer: z.string().max(128).nullish(),
    model: z.string().max(128).nullish(),
  }),
);

/** `DEVICE_DISCOVERED` data; extra fields (BYD sends `driverKey`, `driverInstanceId`) are kept aside. */
export const deviceDiscoveredDataSchema = deferred(() =>
  z.looseObject({
    name: z.string().trim().min(1).max(100),
    deviceType: z.string().min(1).max(64),
    properties: devicePropertiesSchema.optional(),
  }),
);

/** `DEVICE_UPDATED` data: a new name, and properties merged over the announced ones. */
export const deviceUpdatedDataSchema = deferred(() =>
  z.looseObject({
    name: z.string().trim().min(1).max(100).optional(),
    deviceType: z.string().min(1).max(64).optional(),
    properties: devicePropertiesSchema.optional(),
  }),
);

/** `STATE_UPDATE` data: merged into the device's state as sent (nested objects such as `extras` too). */
export const stateUpdateDataSchema = deferred(() =>
  z
    .record(z.string().min(1).max(64), z.unknown())
    .refine((s) => Object.keys(s).length <= 256, "at most 256 keys"),
);

/** `METRIC_UPDATE` data: kept as the device's latest metrics. */
export const metricUpdateDataSchema = deferred(() =>
  z.looseObject({
    metrics: z.array(deviceMetricSchema).max(MAX_DEVICE_METRICS),
  }),
);

/** `ACTION_RESULT` data; `correlationId` is accepted for `requestId`. */
export const actionResultDataSchema = deferred(() =>
  z
    .looseObject({
      command: z.string().max(64).optional(),
      success: z.boolean(),
      requestId: z.string().min(1).max(128).optional(),
      correlationId: z.string().min(1).max(128).optional(),
      message: z.string().optional(),
    })
    .transform(({ correlationId, ...r }) => ({ ...r, requestId: r.requestId ?? correlationId })),
);

export const driverEventDataSchemas = {
  DEVICE_DISCOVERED: deviceDiscoveredDataSchema,
  DEVICE_UPDATED: deviceUpdatedDataSchema,
  STATE_UPDATE: stateUpdateDataSchema,
  METRIC_UPDATE: metricUpdateDataSchema,
  ACTION_RESULT: actionResultDataSchema,
} as const satisfies Record<DriverEventName, z.ZodType>;

export type DeviceDiscoveredData = z.infer<typeof deviceDiscoveredDataSchema>;
export type DeviceUpdatedData = z.infer<typeof deviceUpdatedDataSchema>;
export type ActionResultData = z.infer<typeof actionResultDataSchema>;

/** What a driver sends, as it would write it (the SDK's input type). */
export type DriverEventFrame<E extends DriverEventName = DriverEventName> = {
  event: E;
  device_id: string;
  data: z.input<(typeof driverEventDataSchemas)[E]>;
};

// Station → driver.

export const driverConnectedFrameSchema = deferred(() =>
  z.object({ event: z.literal("CONNECTED"), ok: z.literal(true) }),
);
export const driverRegisteredFrameSchema = deferred(() =>
  z.object({
    event: z.literal("REGISTERED"),
    ok: z.literal(true),
    driverKey: z.string(),
    instanceId: z.string(),
  }),
);

export const DRIVER_ERROR_CODES = [
  /** The message is malformed, unknown, or not allowed now (HOS's code for all of these). */
  "DRIVER_WS_VALIDATION_ERROR",
  /** Over the session's message budget: the message was dropped. */
  "DRIVER_WS_RATE_LIMITED",
  /** The token does not allow this driverKey; the socket closes with 4003. */
  "DRIVER_WS_FORBIDDEN",
] as const;

/** HOS's error envelope; the socket stays open unless the code says otherwise. */
export const driverErrorFrameSchema = deferred(() =>
  z.object({
    ok: z.literal(false),
    code: z.enum(DRIVER_ERROR_CODES),
    error: z.string(),
    details: z.array(z.string()),
    protocolVersion: z.literal(DRIVER_PROTOCOL_VERSION),
  }),
);
export type DriverErrorFrame = z.infer<typeof driverErrorFrameSchema>;

/** A command for one of the driver's devices, by the driver's own `device_id`. */
export const driverActionFrameSchema = deferred(() =>
  z.object({
    event: z.literal("ACTION"),
    device_id: z.string(),
    data: z.object({
      command: z.string(),
      payload: z.record(z.string(), z.unknown()),
      requestId: z.string(),
    }),
  }),
);
export type DriverActionFrame = z.infer<typeof driverActionFrameSchema>;

/** Any frame the station sends a driver. */
export const stationDriverFrameSchema = deferred(() =>
  z.union([
    driverConnectedFrameSchema,
    driverRegisteredFrameSchema,
    driverErrorFrameSchema,
    driverActionFrameSchema,
  ]),
);
export type StationDriverFrame = z.infer<typeof stationDriverFrameSchema>;
