/**
 * What the station sends an app on `/ws` (CONTRACT.md section 4, docs/protocol.md), checked
 * against the protocol's schemas before the client acts on it. A newer station may add fields
 * (a frame is handed on as sent, extra fields included) and events (a push this version
 * cannot type is not handed on).
 */
import type { z } from "zod";
import {
  type ErrorFrame,
  errorFrameSchema,
  type PushFrame,
  pushFrameSchema,
  type ResultFrame,
  resultFrameSchema,
  type SystemFrame,
  systemFrameSchema,
  type WelcomeFrame,
  welcomeFrameSchema,
} from "../protocol/index.ts";

/** Parses one text frame; undefined for anything that is not a frame of this protocol. */
export function parseServerFrame(
  text: string,
):
  | { type: "welcome"; frame: WelcomeFrame }
  | { type: "result"; frame: ResultFrame }
  | { type: "error"; frame: ErrorFrame }
  | { type: "push"; frame: PushFrame }
  | { type: "system"; frame: SystemFrame }
  | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type === "welcome") return wrap("welcome", welcomeFrameSchema.safeParse(json), json);
  if (type === "result") return wrap("result", resultFrameSchema.safeParse(json), json);
  if (type === "error") return wrap("error", errorFrameSchema.safeParse(json), json);
  if (type === "system")
    return wrap("system", systemFrameSchema.safeParse(json) as z.ZodSafeParseResult<SystemFrame>, json);
  if (type === "push") return wrap("push", pushFrameSchema.safeParse(json), json);
  return undefined;
}

function wrap<K extends string, T>(type: K, result: z.ZodSafeParseResult<T>, json: unknown) {
  // The schemas only check (none transforms), so the frame as sent is a T with maybe more fields.
  return result.success ? { type, frame: json as T } : undefined;
}
