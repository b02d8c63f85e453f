import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { StationError } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";

function retryHeaders(err: StationError): Record<string, string> {
  const retry = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
  return err.code === "RATE_LIMITED" && retry ? { "Retry-After": String(Math.ceil(retry / 1000)) } : {};
}

/** The one place an error becomes a response; a bare Error is a bug: 500, logged, never shown. */
export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof StationError) {
      return c.json(err.toBody(), err.status as ContentfulStatusCode, retryHeaders(err));
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code =
        err.status === 413 ? "PAYLOAD_TOO_LARGE" : err.status === 401 ? "UNAUTHORIZED" : "VALIDATION_ERROR";
      const mapped = new StationError(code, err.message || "bad request");
      return c.json(mapped.toBody(), mapped.status as ContentfulStatusCode);
    }
    logger.error("unhandled error in HTTP handler", { path: c.req.path, err });
    const internal = new StationError("INTERNAL_ERROR", "internal error; see the station log");
    return c.json(internal.toBody(), 500);
  };
}

export function notFoundHandler(c: Context) {
  const err = new StationError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
  return c.json(err.toBody(), 404);
}
