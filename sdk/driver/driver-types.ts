import type { BackoffOptions, Clock } from "../../src/core/index.ts";

export type JsonSchema = Record<string, unknown> | boolean;

export interface DriverCommand {
  /** The command's name: the `action` apps send. */
  key: string;
  label?: string;
  /** JSON Schema (draft-07) for its payload; the station refuses payloads that do not match. */
  payloadSchema?: JsonSchema;
}

/** A device this driver serves. `id` is the driver's own id; the station derives a stable one. */
export interface DriverDevice {
  id: string;
  name: string;
  /** e.g. light, switch, sensor, climate, or a type of your own. */
  deviceType: string;
  commands?: DriverCommand[];
  manufacturer?: string;
  model?: string;
  /** More properties shown with the device. */
  properties?: Record<string, unknown>;
}

export interface DriverAction {
  deviceId: string;
  command: string;
  payload: Record<string, unknown>;
  requestId: string;
}

/** What an action handler returns: nothing or true is success; throwing is failure with its message. */
export type ActionOutcome = undefined | boolean | { success: boolean; message?: string };
export type ActionHandler = (action: DriverAction) => ActionOutcome | Promise<ActionOutcome>;

export type DriverState = "idle" | "connecting" | "registered" | "waiting" | "replaced" | "closed";

export interface DriverOptions {
  /** The station's driver endpoint, e.g. `ws://192.168.1.10:8080/driver`. */
  url: string;
  /** [A-Z0-9_], 2-64 chars; lower case is upper-cased, as the HOS SDK does. */
  driverKey: string;
  /** [a-zA-Z0-9:_-], 1-128 chars: tells instances of one driver apart. */
  instanceId: string;
  name?: string;
  /** From `opengenie driver token <driverKey>`; sent as `?token=`. Omit for loopback trust. */
  token?: string;
  /** Timers for reconnects (tests pass a manual clock). */
  clock?: Pick<Clock, "setTimeout" | "clearTimeout">;
  /** The jitter's random source, in [0, 1). */
  random?: () => number;
  backoff?: BackoffOptions;
  /** A WebSocket constructor; the runtime's global one by default (Bun, Deno, Node 22+). */
  WebSocket?: typeof WebSocket;
}
