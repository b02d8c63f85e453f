import superjson from "superjson";
import { type ModuleEvent, moduleEventSchema } from "../protocol/index.ts";

/**
 * The two encodings on `/ws/modules`: the 0.8.4 client sends and reads only superjson
 * (`{"json":{…},"meta"?}`, and `superjson.parse` of plain JSON gives it nothing), while plain
 * JSON peers are accepted too; each peer is answered in the encoding it last spoke.
 */
export type ModuleEncoding = "superjson" | "json";

export type DecodedFrame =
  /** `event` is what the hub reads; `value` is the whole decoded frame, forwarded as it came. */
  | { ok: true; event: ModuleEvent; value: unknown; encoding: ModuleEncoding }
  | { ok: false; reason: "not-json"; encoding?: undefined }
  | { ok: false; reason: "invalid-event"; encoding: ModuleEncoding };

function isSuperjsonWrapper(value: unknown): value is { json: unknown; meta?: unknown } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return (
    "json" in value && !("type" in value) && Object.keys(value).every((k) => k === "json" || k === "meta")
  );
}

/** Never throws: anything a peer sends becomes an event or a reason it is not one. */
export function decodeModuleFrame(text: string): DecodedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not-json" };
  }
  const encoding: ModuleEncoding = isSuperjsonWrapper(raw) ? "superjson" : "json";
  let value: unknown = raw;
  if (encoding === "superjson") {
    try {
      // Only superjson's own annotations are applied (no registered classes): dates, sets,
      // maps, bigints, undefined. Malformed meta, or nesting too deep to walk, throws here.
      value = superjson.deserialize(raw as Parameters<typeof superjson.deserialize>[0]);
    } catch {
      return { ok: false, reason: "invalid-event", encoding };
    }
  }
  try {
    const parsed = moduleEventSchema.safeParse(value);
    return parsed.success
      ? { ok: true, event: parsed.data, value, encoding }
      : { ok: false, reason: "invalid-event", encoding };
  } catch {
    // zod recursing into a pathological value (stack exhaustion) is a bad frame, not a crash.
    return { ok: false, reason: "invalid-event", encoding };
  }
}

/** Serializes one event for a peer; throws only on values JSON cannot hold (cycles). */
export function encodeModuleFrame(value: unknown, encoding: ModuleEncoding): string {
  return encoding === "superjson" ? superjson.stringify(value) : JSON.stringify(value);
}

/**
 * One outgoing event, serialized at most once per encoding however many peers receive it.
 * A routed event keeps the sender's own text for peers of the same encoding.
 */
export class OutgoingEvent {
  private readonly texts: Partial<Record<ModuleEncoding, string>> = {};

  constructor(
    readonly type: string,
    private readonly value: unknown,
    original?: { text: string; encoding: ModuleEncoding },
  ) {
    if (original) this.texts[original.encoding] = original.text;
  }

  /** The frame in `encoding`, or undefined when the value cannot be written in it. */
  text(encoding: ModuleEncoding): string | undefined {
    const cached = this.texts[encoding];
    if (cached !== undefined) return cached;
    try {
      const text = encodeModuleFrame(this.value, encoding);
      this.texts[encoding] = text;
      return text;
    } catch {
      return undefined;
    }
  }
}
