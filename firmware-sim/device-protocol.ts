/**
 * The wire side of CONTRACT.md section 3 as a device sees it. Topics and the schemas of what
 * the station sends come from the station's protocol module (src/protocol); outgoing payloads
 * are built by plain functions typed against it, so every simulated message has exactly the
 * contract's field names.
 */
import type { DeviceType, EventReport, Handshake, Heartbeat, StateReport } from "../src/protocol/index.ts";

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

export function handshakePayload(type: DeviceType, firmwareVersion: string, heartbeatSec: number): Handshake {
  return { type, firmwareVersion, chip: "ESP32-SIM", heartbeatSec };
}

export function statePayload(state: SimState, timestamp: number) {
  return { state, timestamp } satisfies StateReport;
}

export function eventPayload(
  event: EventReport["event"],
  data: Record<string, unknown>,
  timestamp: number,
): EventReport {
  return { event, data, timestamp };
}

export function heartbeatPayload(uptimeSec: number, rssi: number): Heartbeat {
  return { status: "online", uptime: uptimeSec, rssi };
}

export const OFFLINE_WILL_PAYLOAD = JSON.stringify({ status: "offline" } satisfies Heartbeat);
