/**
 * What the device logic of device-runtime.ts needs from a transport (MQTT in
 * simulated-device.ts, `/ws/iot` in ws-simulated-device.ts), and the hooks a transport calls
 * back. The runtime owns handshakes, acks, commands, state and timers; a link only moves
 * messages and reports what happened to the connection.
 */
import type { Clock } from "../src/core/index.ts";
import type { Logger } from "../src/logging/index.ts";
import type { DeviceToStationSuffix } from "../src/protocol/index.ts";
import type { RawMqttAccess } from "./raw-mqtt-access.ts";
import type { SimulatedDeviceOptions } from "./simulated-device-types.ts";

/** The transport-neutral options; the link reads its own (token, reconnect…) itself. */
export interface DeviceRuntimeOptions
  extends Omit<SimulatedDeviceOptions, "stationId" | "clientIdSuffix" | "reconnect" | "reconnectPeriodMs"> {
  /** What a board without Wi-Fi cannot reach, for the wifiOk=false message: "broker", "station". */
  peer: string;
  /** Added to every log line, e.g. `{ transport: "ws" }`. */
  logFields?: Record<string, unknown>;
}

export interface DeviceLink {
  /** The session is up (the handshake may still be pending). */
  readonly connected: boolean;
  /** The last transport error, quoted when start() times out. */
  readonly lastError?: string;
  connect(): void;
  /** Drops the connection and comes back at once, as an ESP32 restart would. */
  restart(): void;
  /** graceful = a clean goodbye; otherwise the connection just dies (power cut). */
  shutdown(graceful: boolean): Promise<void>;
  send(suffix: DeviceToStationSuffix, body: unknown): Promise<void>;
  /** Deliberate protocol breaking for tests (raw-mqtt-access.ts). */
  raw: RawMqttAccess;
}

export interface DeviceLinkHooks {
  /** Ready to talk to the station: (re)send the handshake until it is acked. */
  opened(): void;
  /** A message from the station; `shown` is what to log when it is malformed. */
  received(suffix: string, body: unknown, shown?: unknown): void;
  /** The connection was lost; the link may bring it back. */
  closed(): void;
  /** Fails a pending start() and shuts down; ignored once start() has settled. */
  failStart(error: Error): void;
  /** The station will never take this device: settle start() if pending, log and go quiet. */
  refused(error: Error): void;
}

export interface DeviceLinkContext {
  clock: Clock;
  log: Logger;
  hooks: DeviceLinkHooks;
}

export type CreateDeviceLink = (context: DeviceLinkContext) => DeviceLink;
