/**
 * The wire side of CONTRACT.md section 3 as a device sees it: topic names and the schemas of
 * what the station sends. Outgoing payloads are built by plain functions so every simulated
 * message has exactly the contract's field names.
 */
import { z } from "zod";

export const deviceTypes = ["light", "switch", "sensor", "pir", "climate"] as const;
export const DeviceTypeSchema = z.enum(deviceTypes);
export type DeviceType = z.infer<typeof DeviceTypeSchema>;

/** Suffixes a device publishes to (its ACL allows exactly these) and subscribes to. */
export type DeviceToStationSuffix = "handshake" | "state" | "event" | "heartbeat" | "command/result";
export type StationToDeviceSuffix = "handshake/ack" | "command";

export function deviceTopic(stationId: string, deviceId: string, suffix: string): string {
  return `station/${stationId}/device/${deviceId}/${suffix}`;
}

export const HandshakeAckSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), serverTime: z.number().optional() }),
  z.object({ status: z.literal("unknown_device") }),
]);
export type HandshakeAck = z.infer<typeof HandshakeAckSchema>;

/** `{"action","requestId",…params}`: params sit beside the action, so extra keys are kept. */
export const CommandMessageSchema = z.looseObject({
  action: z.string().min(1),
  requestId: z.string().min(1),
});
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

export type SimStateValue = string | number | boolean;
export type SimState = Record<string, SimStateValue>;

/** The JSON in an MQTT payload; undefined when it is not JSON (firmware ignores it). */
export function parseJsonText(payload: Buffer | string): unknown {
  try {
    return JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
}

export function handshakePayload(type: DeviceType, firmwareVersion: string, heartbeatSec: number) {
  return { type, firmwareVersion, chip: "ESP32-SIM", heartbeatSec };
}

export function statePayload(state: SimState, timestamp: number) {
  return { state, timestamp };
}

export function eventPayload(
  event: "device_event" | "user_event",
  data: Record<string, unknown>,
  timestamp: number,
) {
  return { event, data, timestamp };
}

export function heartbeatPayload(uptimeSec: number, rssi: number) {
  return { status: "online" as const, uptime: uptimeSec, rssi };
}

export const OFFLINE_WILL_PAYLOAD = JSON.stringify({ status: "offline" });

export type CommandResultPayload =
  | { requestId: string; ok: true }
  | { requestId: string; ok: false; error: string };
