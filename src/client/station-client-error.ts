import type { ErrorCode } from "../protocol/index.ts";

/**
 * Codes the client itself produces, beside the station's own (CONTRACT.md errors):
 * TIMEOUT (no reply in time), DISCONNECTED (the socket went away with the request in flight,
 * or there is no open socket), CLOSED (close() was called), SESSION_REVOKED (close 4003: the
 * token was revoked or expired), CONNECT_FAILED (the first connection could not be opened).
 */
export type ClientErrorCode = "TIMEOUT" | "DISCONNECTED" | "CLOSED" | "SESSION_REVOKED" | "CONNECT_FAILED";

export class StationClientError extends Error {
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  readonly details: unknown;
  constructor(code: StationClientError["code"], message: string, details?: unknown) {
    super(message);
    this.name = "StationClientError";
    this.code = code;
    this.details = details;
  }
}
