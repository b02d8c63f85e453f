/**
 * How a device opens its MQTT session (CONTRACT.md section 3: client id, credentials, last
 * will) and how MQTT.js failures become messages a person running the simulator can act on.
 * MQTT.js words a refused 3.1.1 CONNECT with the MQTT 5 reason table, so its own message
 * ("Server unavailable" for return code 5) would mislead.
 */
import type { IClientOptions } from "mqtt";
import { OFFLINE_WILL_PAYLOAD } from "./device-protocol.ts";

export interface DeviceConnectionParams {
  deviceId: string;
  token: string;
  clientIdSuffix?: string;
  willTopic: string;
  reconnect?: boolean;
  reconnectPeriodMs?: number;
  connectTimeoutMs: number;
}

export function deviceConnectOptions(params: DeviceConnectionParams): IClientOptions {
  return {
    clientId: params.clientIdSuffix ? `${params.deviceId}-${params.clientIdSuffix}` : params.deviceId,
    username: params.deviceId,
    password: params.token,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: params.reconnect === false ? 0 : (params.reconnectPeriodMs ?? 1_000),
    connectTimeout: params.connectTimeoutMs,
    will: { topic: params.willTopic, payload: Buffer.from(OFFLINE_WILL_PAYLOAD), qos: 1, retain: false },
  };
}

// MQTT 3.1.1 CONNACK return codes, section 3.2.2.3:
// https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc385349256
const connackReasons: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "client identifier rejected (it must be the deviceId or <deviceId>-<suffix>)",
  3: "server unavailable",
  4: "bad username or password (check the device token)",
  5: "not authorized (check the device token; it may have been revoked)",
  134: "bad username or password (check the device token)",
  135: "not authorized (check the device token; it may have been revoked)",
};

function numericCode(error: Error): number | undefined {
  return "code" in error && typeof error.code === "number" ? error.code : undefined;
}

/** A clear Error when the broker refused the CONNECT itself; undefined for transport errors. */
export function connectRefusal(deviceId: string, error: Error): Error | undefined {
  const code = numericCode(error);
  if (code === undefined || !error.message.startsWith("Connection refused")) return undefined;
  const reason = connackReasons[code] ?? `return code ${code}`;
  return new Error(`${deviceId}: broker refused CONNECT: ${reason}`, { cause: error });
}

/** Return codes of the SUBACK MQTT.js attaches to a subscribe error (ErrorWithSubackPacket). */
function subackCodes(error: Error): number[] {
  if (!("packet" in error) || typeof error.packet !== "object" || error.packet === null) return [];
  const granted = "granted" in error.packet ? error.packet.granted : undefined;
  return Array.isArray(granted) ? granted.filter((g): g is number => typeof g === "number") : [];
}

/** SUBACK return code 0x80 (3.1.1) or any reason code >= 0x80 (MQTT 5) means "refused". */
export function isSubscriptionRefusal(error: Error): boolean {
  const codes = [...subackCodes(error), numericCode(error)];
  return codes.some((code) => code !== undefined && (code & 0x80) !== 0);
}
