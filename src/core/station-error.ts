/** The one error type that crosses boundaries; codes and statuses are CONTRACT.md section 2. */
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

export class StationError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "StationError";
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return errorStatus[this.code];
  }
  toResponse(): Response {
    return Response.json(this.toBody(), { status: this.status });
  }
  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** Maps anything thrown to a StationError; a bare Error becomes INTERNAL_ERROR with no stack shown. */
export function toStationError(err: unknown): StationError {
  if (err instanceof StationError) return err;
  return new StationError("INTERNAL_ERROR", "internal error");
}
