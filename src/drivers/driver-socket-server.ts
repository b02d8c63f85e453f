import { randomUUID } from "node:crypto";
import { type Clock, createTokenBucket, StationError, type TimerHandle } from "../core/index.ts";
import { bearerToken, isLoopbackAddress } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { RequestContext, SocketHandlers } from "../platform/index.ts";
import { DRIVER_CLOSE_REVOKED, DRIVER_CLOSE_TIMEOUT } from "../protocol/index.ts";
import { createDriverFrameHandler } from "./driver-frame-handler.ts";
import { DEFAULT_DRIVER_LIMITS, type DriverLimits } from "./driver-limits.ts";
import type { DriverRejectReason } from "./driver-messages.ts";
import { createDriverOutbox } from "./driver-outbox.ts";
import { createDriverRegistration } from "./driver-registration.ts";
import {
  type DriverConnection,
  type DriverHub,
  type DriverSession,
  type DriverSocketData,
  sessionKey,
} from "./driver-session.ts";

export interface DriverSocketServerDeps {
  hub: DriverHub;
  clock: Clock;
  logger: Logger;
  /** OPENGENIE_DRIVERS_TRUST_LOOPBACK: token-less drivers accepted from loopback only. */
  trustLoopback: boolean;
  limits?: Partial<DriverLimits>;
}

/**
 * `/driver` (CONTRACT.md section 4): HOS drivers over one WebSocket each. Authenticates before
 * the upgrade, registers sessions (a newer one with the same driverKey and instanceId replaces
 * the older with 4001), keeps them alive with pings, and hands their events, one at a time, to
 * the hub. Whatever a driver sends is bounded: 64 KiB frames (the HTTP module's limit), a
 * message budget, a bounded queue, a bounded send buffer, and an error frame, never a crash.
 */
export function createDriverSocketServer(deps: DriverSocketServerDeps) {
  const { hub, clock, logger } = deps;
  const limits: DriverLimits = { ...DEFAULT_DRIVER_LIMITS, ...deps.limits };
  const connections = new Map<string, DriverConnection>();
  /** Registered sessions by `driverKey/instanceId`. */
  const sessions = new Map<string, DriverConnection>();
  const rejected = new Map<DriverRejectReason, number>();
  let heartbeat: TimerHandle | undefined;
  let pongCheck: TimerHandle | undefined;
  /** Sockets open or being upgraded, per credential (a token's driverKey, or loopback trust). */
  const openSockets = new Map<string, number>();
  let closing = false;

  const credential = (data: { tokenDriverKey?: string }) => data.tokenDriverKey ?? "";
  function release(key: string) {
    const n = (openSockets.get(key) ?? 1) - 1;
    if (n <= 0) openSockets.delete(key);
    else openSockets.set(key, n);
  }

  const outbox = createDriverOutbox({ logger, limits, rejected });
  const { send } = outbox;
  const { register } = createDriverRegistration({
    hub,
    clock,
    logger,
    limits,
    connections,
    sessions,
    outbox,
  });
  const frames = createDriverFrameHandler({ hub, clock, logger, limits, rejected, outbox, register });

  function beat() {
    for (const conn of connections.values()) {
      conn.awaitingPong = true;
      conn.socket.ping();
    }
    clock.clearTimeout(pongCheck);
    pongCheck = clock.setTimeout(() => {
      for (const conn of connections.values())
        if (conn.awaitingPong) conn.socket.close(DRIVER_CLOSE_TIMEOUT, "no pong");
    }, limits.pongTimeoutMs);
  }

  const handlers: SocketHandlers<DriverSocketData> = {
    open(socket) {
      const conn: DriverConnection = {
        socket,
        stats: { messagesIn: 0, messagesOut: 0, dropped: 0 },
        rate: createTokenBucket(limits.rateCapacity, limits.ratePerSecond, clock.now()),
        rateNoticeSent: false,
        awaitingPong: false,
        queue: Promise.resolve(),
        queuedChars: 0,
      };
      conn.registerTimer = clock.setTimeout(
        () => socket.close(DRIVER_CLOSE_TIMEOUT, "no driver.register in time"),
        limits.registerTimeoutMs,
      );
      connections.set(socket.data.connId, conn);
      send(conn, { event: "CONNECTED", ok: true });
    },
    message(socket, message) {
      const conn = connections.get(socket.data.connId);
      if (!conn) return;
      frames.receive(conn, message);
    },
    close(socket, code) {
      release(credential(socket.data));
      const conn = connections.get(socket.data.connId);
      if (!conn) return;
      connections.delete(socket.data.connId);
      clock.clearTimeout(conn.registerTimer);
      const session = conn.session;
      if (!session) return;
      const key = sessionKey(session.driverKey, session.instanceId);
      // A replaced session's devices now belong to its successor: they stay online.
      if (sessions.get(key) !== conn) return;
      sessions.delete(key);
      logger.info("driver disconnected", {
        driverKey: session.driverKey,
        instanceId: session.instanceId,
        code,
      });
      hub.ended(session);
    },
    pong(socket) {
      const conn = connections.get(socket.data.connId);
      if (conn) conn.awaitingPong = false;
    },
  };

  return {
    handlers,
    /** Authenticates before the upgrade: without a valid token (or loopback trust), HTTP 401. */
    async upgrade(request: Request, ctx: RequestContext<DriverSocketData>): Promise<Response | undefined> {
      if (closing) return new StationError("UNAVAILABLE", "station is shutting down").toResponse();
      const url = new URL(request.url);
      const token = url.searchParams.get("token") || bearerToken(request.headers.get("authorization"));
      let tokenDriverKey: string | undefined;
      if (token) {
        tokenDriverKey = await hub.driverKeyOf(token);
        if (!tokenDriverKey)
          return new StationError("UNAUTHORIZED", "unknown or revoked driver token").toResponse();
      } else if (!(deps.trustLoopback && isLoopbackAddress(ctx.remoteAddress))) {
        return new StationError(
          "UNAUTHORIZED",
          "a driver token is required: create one with 'opengenie driver token <driverKey>' and pass it as ?token= or Authorization: Bearer; token-less drivers on this machine need OPENGENIE_DRIVERS_TRUST_LOOPBACK=on",
        ).toResponse();
      }
      const key = credential({ ...(tokenDriverKey ? { tokenDriverKey } : {}) });
      const open = openSockets.get(key) ?? 0;
      if (open >= limits.socketsPerCredential) {
        return new StationError(
          "RATE_LIMITED",
          `at most ${limits.socketsPerCredential} open /driver sockets per driver token; close some first`,
          { retryAfterMs: 1000 },
        ).toResponse();
      }
      openSockets.set(key, open + 1);
      const data: DriverSocketData = {
        kind: "driver",
        connId: randomUUID(),
        ...(tokenDriverKey ? { tokenDriverKey } : {}),
        connectedAt: clock.now(),
      };
      if (ctx.upgrade({ data })) return undefined;
      release(key);
      return new StationError("VALIDATION_ERROR", "expected a WebSocket upgrade request").toResponse();
    },
    /** The registered session serving `driverKey/instanceId`. */
    session(driverKey: string, instanceId: string): DriverSession | undefined {
      return sessions.get(sessionKey(driverKey, instanceId))?.session;
    },
    sessions: (): DriverSession[] => [...sessions.values()].flatMap((c) => (c.session ? [c.session] : [])),
    /** Closes every connection that came in with a token of this driverKey; how many. */
    closeTokenSessions(driverKey: string, reason: string): number {
      let closed = 0;
      for (const conn of connections.values()) {
        if (conn.socket.data.tokenDriverKey !== driverKey) continue;
        conn.socket.close(DRIVER_CLOSE_REVOKED, reason);
        closed++;
      }
      return closed;
    },
    connections: () =>
      [...connections.values()].map((c) => ({
        id: c.socket.data.connId,
        remoteAddress: c.socket.remoteAddress,
        connectedAt: c.socket.data.connectedAt,
        principal: c.session ? sessionKey(c.session.driverKey, c.session.instanceId) : undefined,
        ...c.stats,
      })),
    rejected: () => Object.fromEntries(rejected) as Partial<Record<DriverRejectReason, number>>,
    start() {
      closing = false;
      heartbeat = clock.setInterval(beat, limits.heartbeatMs);
    },
    shutdown() {
      closing = true;
      for (const conn of connections.values()) conn.socket.close(1001, "station shutting down");
    },
    stop() {
      clock.clearInterval(heartbeat);
      clock.clearTimeout(pongCheck);
      for (const conn of connections.values()) clock.clearTimeout(conn.registerTimer);
    },
  };
}

export type DriverSocketServer = ReturnType<typeof createDriverSocketServer>;
