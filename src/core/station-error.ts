import { type ErrorCode, errorStatus } from "../protocol/index.ts";

export { type ErrorCode, errorStatus };

/** The one error type that crosses boundaries; codes and statuses are CONTRACT.md section 2. */
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
