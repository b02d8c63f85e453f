import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * The station's own API for drivers (`/api/drivers…`), which `opengenie driver token` and
 * `opengenie drivers` use when a station is running; their `--json` output is these bodies.
 */

/** `POST /api/drivers/{driverKey}/token`: the token, shown this once. */
export const driverTokenSchema = deferred(() =>
  z.object({ driverKey: z.string(), token: z.string(), createdAt: z.number() }).meta({ id: "DriverToken" }),
);
export type DriverToken = z.infer<typeof driverTokenSchema>;

/** `DELETE /api/drivers/{driverKey}/token`. */
export const driverRevokedSchema = deferred(() =>
  z
    .object({ driverKey: z.string(), revoked: z.boolean(), closedSessions: z.number().int() })
    .meta({ id: "DriverRevoked" }),
);
export type DriverRevoked = z.infer<typeof driverRevokedSchema>;

export const driverSessionSchema = deferred(() =>
  z.object({
    instanceId: z.string(),
    name: z.string().optional(),
    remoteAddress: z.string(),
    connectedAt: z.number(),
    /** Whether it came in without a token, trusted for being on loopback. */
    trustedLoopback: z.boolean(),
  }),
);

export const driverDeviceSummarySchema = deferred(() =>
  z.object({
    id: z.string(),
    /** The driver's own id for it (`device_id` on the wire). */
    deviceId: z.string(),
    instanceId: z.string(),
    name: z.string(),
    type: z.string(),
    online: z.boolean(),
  }),
);

export const driverInfoSchema = deferred(() =>
  z
    .object({
      driverKey: z.string(),
      /** When its token was made; null: it has none (only loopback-trusted sessions, or revoked). */
      tokenCreatedAt: z.number().nullable(),
      sessions: z.array(driverSessionSchema),
      devices: z.array(driverDeviceSummarySchema),
    })
    .meta({ id: "Driver" }),
);
export type DriverInfo = z.infer<typeof driverInfoSchema>;

/** `GET /api/drivers`: every driver with a token, a device or a live session. */
export const driverListSchema = deferred(() => z.object({ drivers: z.array(driverInfoSchema) }));
export type DriverList = z.infer<typeof driverListSchema>;
