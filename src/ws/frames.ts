import { z } from "zod";
import { type ErrorCode, StationError, zodErrorMessage } from "../core/index.ts";

/** A request frame from an app (CONTRACT.md section 4). */
export const requestFrameSchema = z.object({
  id: z.union([z.string().min(1).max(128), z.number().int()]),
  type: z.string().min(1).max(64),
  payload: z.unknown().optional(),
});
export type RequestFrame = z.infer<typeof requestFrameSchema>;
export type FrameId = RequestFrame["id"] | null;

export function resultFrame(id: FrameId, data: unknown): string {
  return JSON.stringify({ id, type: "result", data });
}

export function errorFrame(id: FrameId, code: ErrorCode, message: string, details?: unknown): string {
  return JSON.stringify({ id, type: "error", code, message, ...(details === undefined ? {} : { details }) });
}

export function errorFrameFrom(id: FrameId, err: StationError): string {
  return errorFrame(id, err.code, err.message, err.details);
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
