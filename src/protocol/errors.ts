import { z } from "zod";
import { deferred } from "./deferred.ts";

/** Every error code the station sends, and its HTTP status (CONTRACT.md section 2). */
export const errorStatus = {
  PARSE_ERROR: 400,
  VALIDATION_ERROR: 400,
  UNKNOWN_OPERATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  DEVICE_OFFLINE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  DEVICE_ERROR: 502,
  BLE_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
  DEVICE_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/**
 * The body of every HTTP error. `code` stays a plain string on the wire, so a client built
 * against this version still reads an error whose code a newer station added.
 */
export const errorBodySchema = deferred(() =>
  z
    .object({
      error: z.object({
        code: z.string().meta({ example: "VALIDATION_ERROR" }),
        message: z.string(),
        details: z.unknown().optional(),
      }),
    })
    .meta({ id: "Error" }),
);
export type ErrorBody = z.infer<typeof errorBodySchema>;
