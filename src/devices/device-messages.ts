import type { z } from "zod";
import { type DeviceToStationSuffix, deviceMessageSchemas, MAX_PAYLOAD_BYTES } from "../protocol/index.ts";

export { MAX_PAYLOAD_BYTES, MAX_STATE_KEYS } from "../protocol/index.ts";

export type DeviceMessageSuffix = DeviceToStationSuffix;
export type DeviceMessage = {
  [K in DeviceMessageSuffix]: { suffix: K; payload: z.infer<(typeof deviceMessageSchemas)[K]> };
}[DeviceMessageSuffix];

/** Parses a raw payload for a suffix; malformed input is reported, never thrown. */
export function parseDeviceMessage(
  suffix: string,
  raw: string,
): { ok: true; message: DeviceMessage } | { ok: false; reason: string } {
  const schema = Object.hasOwn(deviceMessageSchemas, suffix)
    ? deviceMessageSchemas[suffix as DeviceMessageSuffix]
    : undefined;
  if (!schema) return { ok: false, reason: `unknown topic suffix ${suffix}` };
  if (raw.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload over ${MAX_PAYLOAD_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "payload is not valid JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `${issue?.path.join(".") || "payload"}: ${issue?.message}` };
  }
  return { ok: true, message: { suffix, payload: parsed.data } as DeviceMessage };
}
