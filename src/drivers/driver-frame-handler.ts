import type { Clock } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { DriverLimits } from "./driver-limits.ts";
import { type DriverRejectReason, parseDriverMessage } from "./driver-messages.ts";
import type { DriverOutbox } from "./driver-outbox.ts";
import type { DriverConnection, DriverHub } from "./driver-session.ts";

export interface DriverFrameHandlerDeps {
  hub: DriverHub;
  clock: Clock;
  logger: Logger;
  limits: DriverLimits;
  /** Refused messages by reason; a dropped message past the first rate notice is counted here. */
  rejected: Map<DriverRejectReason, number>;
  outbox: DriverOutbox;
  register(
    conn: DriverConnection,
    params: { driverKey: string; instanceId: string; name?: string },
  ): Promise<void> | void;
}

/**
 * One connection's incoming frames: the message budget, the bounded queue, and each message,
 * one at a time, parsed and handed to registration or the hub.
 */
export function createDriverFrameHandler(deps: DriverFrameHandlerDeps) {
  const { hub, clock, logger, limits, rejected } = deps;
  const { refuse } = deps.outbox;

  async function handle(conn: DriverConnection, text: string) {
    const message = parseDriverMessage(text);
    if (message.kind === "problem") return refuse(conn, message.problem);
    if (message.kind === "register") return deps.register(conn, message.params);
    const session = conn.session;
    if (!session) {
      return refuse(conn, {
        reason: "unregistered",
        error: "Driver is not registered.",
        details: ["Send driver.register first."],
      });
    }
    const p = await hub.handle(session, message.event);
    if (p) refuse(conn, p);
  }

  function receive(conn: DriverConnection, message: string | Uint8Array) {
    conn.stats.messagesIn++;
    const wait = conn.rate.take(clock.now());
    if (wait > 0) {
      conn.stats.dropped++;
      if (conn.rateNoticeSent) {
        rejected.set("rate", (rejected.get("rate") ?? 0) + 1);
        return;
      }
      conn.rateNoticeSent = true;
      return refuse(conn, {
        reason: "rate",
        code: "DRIVER_WS_RATE_LIMITED",
        error: "Too many messages; this one and the next ones are dropped until the budget refills.",
        details: [
          `At most ${limits.ratePerSecond} messages per second (bursts of ${limits.rateCapacity}).`,
          `retryAfterMs: ${wait}`,
        ],
      });
    }
    conn.rateNoticeSent = false;
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    if (conn.queuedChars + text.length > limits.maxQueuedChars) {
      return refuse(conn, {
        reason: "limit",
        error: "Too many messages waiting.",
        details: [
          `At most ${limits.maxQueuedChars} characters of messages wait to be handled; this one was dropped.`,
        ],
      });
    }
    conn.queuedChars += text.length;
    // One at a time per session: a STATE_UPDATE right after a DEVICE_DISCOVERED finds its device.
    conn.queue = conn.queue
      .then(() => handle(conn, text))
      .catch((err) => logger.error("handling a driver message failed", { err }))
      .finally(() => {
        conn.queuedChars -= text.length;
      });
  }

  return { receive };
}
