import type { z } from "zod";
import { zodErrorMessage } from "../core/index.ts";
import { type DeviceToStationSuffix, deviceMessageSchemas, MAX_PAYLOAD_BYTES } from "../protocol/index.ts";

export { MAX_PAYLOAD_BYTES, MAX_STATE_KEYS } from "../protocol/index.ts";

export type DeviceMessageSuffix = DeviceToStationSuffix;
export type DeviceMessage = {
  [K in DeviceMessageSuffix]: { suffix: K; payload: z.infer<(typeof deviceMessageSchemas)[K]> };
}[DeviceMessageSuffix];

/** Why a device message was rejected, in a closed set (a metric label); `reason` says it in words. */
export type RejectCode =
  | "unknown_topic"
  | "too_large"
  | "not_json"
  | "invalid"
  | "unknown_device"
  | "state_too_large";

/** Parses a raw payload for a suffix; malformed input is reported, never thrown. */
export function parseDeviceMessage(
  suffix: string,
  raw: string,
): { ok: true; message: DeviceMessage } | { ok: false; code: RejectCode; reason: string } {
  const schema = Object.hasOwn(deviceMessageSchemas, suffix)
    ? deviceMessageSchemas[suffix as DeviceMessageSuffix]
    : undefined;
  if (!schema) return { ok: false, code: "unknown_topic", reason: `unknown topic suffix ${suffix}` };
  if (raw.length > MAX_PAYLOAD_BYTES)
    return { ok: false, code: "too_large", reason: `payload over ${MAX_PAYLOAD_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: "not_json", reason: "payload is not valid JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, code: "invalid", reason: zodErrorMessage(parsed.error, "payload") };
  }
  return { ok: true, message: { suffix, payload: parsed.data } as DeviceMessage };
}
