import type { Logger } from "../logging/index.ts";
import type { StationDriverFrame } from "../protocol/index.ts";
import type { DriverLimits } from "./driver-limits.ts";
import { type DriverProblem, type DriverRejectReason, errorFrame } from "./driver-messages.ts";
import { type DriverConnection, sessionKey } from "./driver-session.ts";

export interface DriverOutboxDeps {
  logger: Logger;
  limits: DriverLimits;
  /** Refused messages by reason; the server reports it. */
  rejected: Map<DriverRejectReason, number>;
}

/** Frames to one driver connection within its send buffer, and refusals as error frames. */
export function createDriverOutbox({ logger, limits, rejected }: DriverOutboxDeps) {
  function send(conn: DriverConnection, frame: StationDriverFrame): boolean {
    if (conn.socket.getBufferedAmount() > limits.sendBufferLimit) {
      conn.stats.dropped++;
      return false;
    }
    const sent = conn.socket.send(JSON.stringify(frame));
    if (sent === 0) {
      conn.stats.dropped++;
      return false;
    }
    conn.stats.messagesOut++;
    return true;
  }

  function refuse(conn: DriverConnection, p: DriverProblem) {
    rejected.set(p.reason, (rejected.get(p.reason) ?? 0) + 1);
    logger.debug("refused a driver message", {
      driver: conn.session
        ? sessionKey(conn.session.driverKey, conn.session.instanceId)
        : conn.socket.data.connId,
      reason: p.reason,
      error: p.error,
    });
    send(conn, errorFrame(p));
  }

  return { send, refuse };
}

export type DriverOutbox = ReturnType<typeof createDriverOutbox>;
