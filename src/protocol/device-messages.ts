import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * The device protocol (CONTRACT.md section 3): topics `station/{stationId}/device/{deviceId}/<suffix>`
 * and their JSON payloads, the same over MQTT and `/ws/iot`.
 */

/** What a device sends to the station. */
export const DEVICE_TO_STATION_SUFFIXES = [
  "handshake",
  "state",
  "event",
  "heartbeat",
  "command/result",
] as const;

/** What the station sends to a device. */
export const STATION_TO_DEVICE_SUFFIXES = ["handshake/ack", "command"] as const;

export type DeviceToStationSuffix = (typeof DEVICE_TO_STATION_SUFFIXES)[number];
export type StationToDeviceSuffix = (typeof STATION_TO_DEVICE_SUFFIXES)[number];
export type DeviceTopicSuffix = DeviceToStationSuffix | StationToDeviceSuffix;

export function deviceTopic(stationId: string, deviceId: string, suffix: DeviceTopicSuffix): string {
  return `station/${stationId}/device/${deviceId}/${suffix}`;
}

/** Bounds on what one device may store: a state is a handful of readings, not a document. */
export const MAX_STATE_KEYS = 256;
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const timestamp = deferred(() => z.number().optional());

export const handshakeSchema = deferred(() =>
  z.object({
    type: z.string().min(1).max(32),
    firmwareVersion: z.string().min(1).max(64),
    chip: z.string().max(64).optional(),
    heartbeatSec: z.number().int().min(1).max(86_400).optional(),
  }),
);

export const stateReportSchema = deferred(() =>
  z.object({
    state: z
      .record(z.string().min(1).max(64), z.unknown())
      .refine((s) => Object.keys(s).length <= MAX_STATE_KEYS, `at most ${MAX_STATE_KEYS} keys`),
    timestamp,
  }),
);

export const eventReportSchema = deferred(() =>
  z.object({
    event: z.enum(["device_event", "user_event"]),
    data: z.record(z.string(), z.unknown()),
    timestamp,
  }),
);

/** Also the last will, `{"status":"offline"}`. */
export const heartbeatSchema = deferred(() =>
  z.object({
    status: z.enum(["online", "offline"]),
    uptime: z.number().optional(),
    rssi: z.number().optional(),
  }),
);

export const commandResultSchema = deferred(() =>
  z.union([
    z.object({ requestId: z.string().min(1), ok: z.literal(true) }),
    z.object({ requestId: z.string().min(1), ok: z.literal(false), error: z.string().max(1024).optional() }),
  ]),
);

/** Device → station payloads by suffix. */
export const deviceMessageSchemas = {
  handshake: handshakeSchema,
  state: stateReportSchema,
  event: eventReportSchema,
  heartbeat: heartbeatSchema,
  "command/result": commandResultSchema,
} as const satisfies Record<DeviceToStationSuffix, z.ZodType>;

export type Handshake = z.infer<typeof handshakeSchema>;
export type StateReport = z.infer<typeof stateReportSchema>;
export type EventReport = z.infer<typeof eventReportSchema>;
export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type CommandResult = z.infer<typeof commandResultSchema>;

/** Station → device: the answer to a handshake. */
export const handshakeAckSchema = deferred(() =>
  z.discriminatedUnion("status", [
    z.object({ status: z.literal("ok"), serverTime: z.number() }),
    z.object({ status: z.literal("unknown_device") }),
  ]),
);
export type HandshakeAck = z.infer<typeof handshakeAckSchema>;

/** Station → device: `{"action","requestId",…params}`; params sit beside the action. */
export const commandMessageSchema = deferred(() =>
  z.looseObject({
    action: z.string().min(1),
    requestId: z.string().min(1),
  }),
);
export type CommandMessage = z.infer<typeof commandMessageSchema>;

/** A `/ws/iot` frame, both ways: the MQTT suffix and its payload. */
export const iotFrameSchema = deferred(() =>
  z.object({ topic: z.string().min(1).max(64), payload: z.unknown() }),
);
export type IotFrame = z.infer<typeof iotFrameSchema>;

/** A `/ws/iot` frame from the station, payload checked by topic. */
export const stationIotFrameSchema = deferred(() =>
  z.discriminatedUnion("topic", [
    z.object({ topic: z.literal("handshake/ack"), payload: handshakeAckSchema }),
    z.object({ topic: z.literal("command"), payload: commandMessageSchema }),
  ]),
);
