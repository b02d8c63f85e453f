/**
 * The BLE helper's wire format (CONTRACT.md section 6): zod schemas for every helper → station
 * line, and builders for every station → helper command, so both sides use the contract's
 * field names. The same schemas parse commands in firmware-sim's fake bridge.
 */
import { z } from "zod";
import { deferred } from "../protocol/deferred.ts";

export const bleHelperErrorCodes = ["NO_BLUEZ", "NO_ADAPTER", "BLEAK_MISSING", "INTERNAL"] as const;
export type BleHelperErrorCode = (typeof bleHelperErrorCodes)[number];
/** Codes meaning "BLE cannot work on this machine until the user fixes something". */
export const unavailableErrorCodes: readonly BleHelperErrorCode[] = [
  "NO_BLUEZ",
  "NO_ADAPTER",
  "BLEAK_MISSING",
];

export const BleHelperMessageSchema = deferred(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("ready") }),
    z.object({
      type: z.literal("discovered"),
      address: z.string().min(1),
      // BLE advertisements may carry no name; a replacement helper may send null for it.
      name: z
        .string()
        .nullish()
        .transform((name) => name ?? ""),
      rssi: z.number(),
      service_uuids: z.array(z.string()).default([]),
      /** Hex-encoded bytes per service UUID. */
      service_data: z.record(z.string(), z.string()).default({}),
    }),
    z.object({ type: z.literal("scan_started") }),
    z.object({ type: z.literal("scan_stopped") }),
    z.object({
      type: z.literal("write_result"),
      address: z.string(),
      ok: z.boolean(),
      error: z.string().optional(),
    }),
    z.object({
      type: z.literal("error"),
      // A replacement helper may invent codes; treat those as INTERNAL rather than as garbage.
      code: z.enum(bleHelperErrorCodes).catch("INTERNAL"),
      message: z.string(),
    }),
  ]),
);
export type BleHelperMessage = z.infer<typeof BleHelperMessageSchema>;
export type BleDiscovered = Extract<BleHelperMessage, { type: "discovered" }>;
export type BleWriteResult = Extract<BleHelperMessage, { type: "write_result" }>;

/** Parses one stdout line; undefined for anything that is not a valid helper message. */
export function parseHelperLine(line: string): BleHelperMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = BleHelperMessageSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** What the station writes to the characteristic: UTF-8 JSON with exactly these keys. */
export const ProvisioningPayloadSchema = deferred(() =>
  z.object({
    ssid: z.string(),
    password: z.string(),
    mqtt_host: z.string().min(1),
    mqtt_port: z.number().int().min(1).max(65535),
    device_id: z.string().min(1),
    device_token: z.string().min(1),
    station_id: z.string().min(1),
  }),
);
export type ProvisioningPayload = z.infer<typeof ProvisioningPayloadSchema>;

export const BleCommandSchema = deferred(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("start_scan"), service_uuid: z.string().optional() }),
    z.object({ type: z.literal("stop_scan") }),
    z.object({
      type: z.literal("connect_and_write"),
      address: z.string().min(1),
      service_uuid: z.string(),
      characteristic_uuid: z.string().min(1),
      /** A string is written as UTF-8; an object is JSON-encoded first. */
      payload: z.union([z.string(), z.record(z.string(), z.unknown())]),
    }),
  ]),
);
export type BleCommand = z.infer<typeof BleCommandSchema>;

export function startScanCommand(serviceUuid: string): BleCommand {
  return { type: "start_scan", service_uuid: serviceUuid };
}

export function stopScanCommand(): BleCommand {
  return { type: "stop_scan" };
}

export function connectAndWriteCommand(options: {
  address: string;
  serviceUuid: string;
  characteristicUuid: string;
  payload: ProvisioningPayload | string;
}): BleCommand {
  return {
    type: "connect_and_write",
    address: options.address,
    service_uuid: options.serviceUuid,
    characteristic_uuid: options.characteristicUuid,
    payload: options.payload,
  };
}

/** One command as the helper reads it: a single line of JSON. */
export function encodeCommand(command: BleCommand): string {
  return `${JSON.stringify(command)}\n`;
}
