import { z } from "zod";
import { zodErrorMessage } from "../core/index.ts";

/** Device → station payloads (CONTRACT.md section 3), shared by every transport. */
const timestamp = z.number().optional();

export const handshakeSchema = z.object({
  type: z.string().min(1).max(32),
  firmwareVersion: z.string().min(1).max(64),
  chip: z.string().max(64).optional(),
  heartbeatSec: z.number().int().min(1).max(86_400).optional(),
});

/** Bounds on what one device may store: a state is a handful of readings, not a document. */
export const MAX_STATE_KEYS = 256;
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const stateReportSchema = z.object({
  state: z
    .record(z.string().min(1).max(64), z.unknown())
    .refine((s) => Object.keys(s).length <= MAX_STATE_KEYS, `at most ${MAX_STATE_KEYS} keys`),
  timestamp,
});

export const eventReportSchema = z.object({
  event: z.enum(["device_event", "user_event"]),
  data: z.record(z.string(), z.unknown()),
  timestamp,
});

export const heartbeatSchema = z.object({
  status: z.enum(["online", "offline"]),
  uptime: z.number().optional(),
  rssi: z.number().optional(),
});

export const commandResultSchema = z.union([
  z.object({ requestId: z.string().min(1), ok: z.literal(true) }),
  z.object({ requestId: z.string().min(1), ok: z.literal(false), error: z.string().max(1024).optional() }),
]);

export const deviceMessageSchemas = {
  handshake: handshakeSchema,
  state: stateReportSchema,
  event: eventReportSchema,
  heartbeat: heartbeatSchema,
  "command/result": commandResultSchema,
} as const;

export type DeviceMessageSuffix = keyof typeof deviceMessageSchemas;
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
