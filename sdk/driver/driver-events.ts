import { createEventBus } from "../../src/core/index.ts";
import type { DriverErrorFrame } from "../../src/protocol/index.ts";
import type { DriverAction } from "./driver-types.ts";

/** The SDK's events, typed. */
export interface DriverEvents extends Record<string, unknown> {
  /** The socket opened (registration follows). */
  connected: { url: string };
  registered: { driverKey: string; instanceId: string };
  disconnected: { code: number; reason: string };
  /** A reconnect is scheduled `delayMs` from now; `attempt` counts from 1 since the last registration. */
  reconnecting: { attempt: number; delayMs: number };
  /** Close code 4001: another session with this driverKey and instanceId took over. No reconnect. */
  replaced: { reason: string };
  /** The station refused a message (HOS's error envelope). */
  error: DriverErrorFrame;
  action: DriverAction;
}

/** The SDK's typed emitter: a listener that throws is reported and the others still run. */
export function createDriverEvents() {
  return createEventBus<DriverEvents>((event, err) =>
    console.error(`driver: a listener of ${event} failed`, err),
  );
}
