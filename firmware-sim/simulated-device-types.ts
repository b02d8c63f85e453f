/** The public shape of a simulated device: what tests, benches and the CLI program against. */
import type { Clock } from "../src/core/index.ts";
import type { Logger } from "../src/logging/index.ts";
import type {
  CommandMessage,
  CommandResult,
  DeviceToStationSuffix,
  DeviceType,
} from "../src/protocol/index.ts";
import type { SimState } from "./device-protocol.ts";

export interface SimulatedDeviceOptions {
  url: string;
  stationId: string;
  deviceId: string;
  token: string;
  type: DeviceType;
  /** Default "sim-1.0.0"; an ota_update changes it and the next handshake reports it. */
  firmwareVersion?: string;
  /** Default 30; sent in the handshake so the station's 3-missed-heartbeats rule matches. */
  heartbeatSec?: number;
  /** Default 10 000: sensor/climate readings, and for a PIR a motion event, each interval. */
  sensorIntervalMs?: number;
  /** How long a PIR reports motion before it clears. */
  motionHoldMs?: number;
  /** Connect as `<deviceId>-<suffix>`, the contract's second-connection client id. */
  clientIdSuffix?: string;
  /** Default true: MQTT.js retries every reconnectPeriodMs (default 1 000) and re-handshakes. */
  reconnect?: boolean;
  reconnectPeriodMs?: number;
  /** false simulates a board that cannot join Wi-Fi: start() fails without touching the network. */
  wifiOk?: boolean;
  /** Default 3 000: an unanswered handshake is repeated this often until the station acks it. */
  handshakeRetryMs?: number;
  /** Default 10 000: start() rejects if no `ok` handshake ack arrives in time. */
  startTimeoutMs?: number;
  /** Heartbeat, sensor and timeout timers; a manual clock drives them without sleeping. */
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  onCommand?: (received: ReceivedCommand) => void;
  onStateSent?: (sent: SentState) => void;
}

export interface ReceivedCommand {
  command: CommandMessage;
  result: CommandResult;
  at: number;
}
export interface SentState {
  state: SimState;
  timestamp: number;
}

export interface SimulatedDevice {
  readonly deviceId: string;
  readonly type: DeviceType;
  readonly state: Readonly<SimState>;
  readonly firmwareVersion: string;
  readonly received: readonly ReceivedCommand[];
  /** MQTT session is up (the handshake may still be pending). */
  readonly connected: boolean;
  /** Connected and the station acked the handshake with status ok. */
  readonly ready: boolean;
  start(): Promise<void>;
  stop(options?: { graceful?: boolean }): Promise<void>;
  publishState(partial: SimState): Promise<void>;
  publishEvent(event: "device_event" | "user_event", data: Record<string, unknown>): Promise<void>;
  publishRaw(suffix: DeviceToStationSuffix, payload: string): Promise<void>;
  publishToTopic(topic: string, payload: string | object, timeoutMs?: number): Promise<boolean>;
  subscribeRaw(topic: string): Promise<boolean>;
  triggerMotion(): Promise<void>;
  onCommand(listener: (received: ReceivedCommand) => void): () => void;
  onStateSent(listener: (sent: SentState) => void): () => void;
}
