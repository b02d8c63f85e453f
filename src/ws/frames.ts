import { type ErrorCode, StationError, zodErrorMessage } from "../core/index.ts";
import {
  type ErrorFrame,
  type FrameId,
  type RequestFrame,
  type ResultFrame,
  requestFrameSchema,
  type StationSystemFrame,
  type WelcomeFrame,
} from "../protocol/index.ts";

/** Frames to an app, built from the protocol's types (CONTRACT.md section 4). */
export type { FrameId, RequestFrame };

export function resultFrame(id: FrameId, data: unknown): string {
  return JSON.stringify({ id, type: "result", data } satisfies ResultFrame);
}

export function errorFrame(id: FrameId, code: ErrorCode, message: string, details?: unknown): string {
  const frame: ErrorFrame = {
    id,
    type: "error",
    code,
    message,
    ...(details === undefined ? {} : { details }),
  };
  return JSON.stringify(frame);
}

export function errorFrameFrom(id: FrameId, err: StationError): string {
  return errorFrame(id, err.code, err.message, err.details);
}

export function welcomeFrame(welcome: Omit<WelcomeFrame, "type">): string {
  return JSON.stringify({ type: "welcome", ...welcome } satisfies WelcomeFrame);
}

export function systemFrame(frame: StationSystemFrame): string {
  return JSON.stringify(frame);
}

/** Parses raw text into a request frame, or a StationError with what went wrong. */
export function parseRequestFrame(
  raw: string,
): { ok: true; frame: RequestFrame } | { ok: false; id: FrameId; error: StationError } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, id: null, error: new StationError("PARSE_ERROR", "frame is not valid JSON") };
  }
  const parsed = requestFrameSchema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  // Echo the id when it was usable, so the client can still match the error to its request.
  const rawId = (json as { id?: unknown } | null)?.id;
  const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  return {
    ok: false,
    id,
    error: new StationError(
      "PARSE_ERROR",
      `frame must be {"id","type","payload"?}: ${zodErrorMessage(parsed.error, "frame")}`,
    ),
  };
}
