import { randomUUID } from "node:crypto";
import type { AuthService } from "../auth/index.ts";
import { hasRole } from "../auth/index.ts";
import { type Clock, StationError, type TimerHandle, toStationError } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { RequestContext, SocketConnection, SocketHandlers } from "../platform/index.ts";
import { CLOSE_PONG_TIMEOUT, CLOSE_SESSION_REVOKED } from "../protocol/index.ts";
import { AppConnection, type AppSocketData, type ConnectionLimits } from "./app-connection.ts";
import {
  errorFrame,
  errorFrameFrom,
  parseRequestFrame,
  resultFrame,
  systemFrame,
  welcomeFrame,
} from "./frames.ts";
import type { Operation } from "./operations.ts";
import { APP_PROTOCOL, socketToken, upgradeHeaders } from "./socket-token.ts";

export interface AppSocketDeps {
  auth: AuthService;
  clock: Clock;
  logger: Logger;
  stationId: string;
  operations: Operation[];
  limits?: Partial<ConnectionLimits>;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
  onDisconnect?: (conn: AppConnection) => void;
}

export { CLOSE_PONG_TIMEOUT, CLOSE_SESSION_REVOKED };

/** The `/ws` endpoint for apps (CONTRACT.md section 4): auth before upgrade, request/response, heartbeat. */
export function createAppSocketServer(deps: AppSocketDeps) {
  const { clock, logger } = deps;
  const limits: ConnectionLimits = {
    bufferLimit: 256 * 1024,
    rateCapacity: 60,
    ratePerSecond: 30,
    ...deps.limits,
  };
  const heartbeatMs = deps.heartbeatMs ?? 30_000;
  const pongTimeoutMs = deps.pongTimeoutMs ?? 10_000;
  const connections = new Map<string, AppConnection>();
  const operations = new Map(deps.operations.map((op) => [op.type, op]));
  const expiryTimers = new Map<string, TimerHandle>();
  let heartbeat: TimerHandle | undefined;
  let pongCheck: TimerHandle | undefined;
  let closing = false;

  function beat() {
    for (const conn of connections.values()) {
      conn.awaitingPong = true;
      conn.socket.ping();
    }
    clock.clearTimeout(pongCheck);
    pongCheck = clock.setTimeout(() => {
      for (const conn of connections.values()) {
        if (conn.awaitingPong) conn.socket.close(CLOSE_PONG_TIMEOUT, "no pong");
      }
    }, pongTimeoutMs);
  }

  async function dispatch(conn: AppConnection, raw: string) {
    // Every frame counts against the rate limit, parseable or not.
    const wait = conn.rate.take(clock.now());
    const parsed = parseRequestFrame(raw);
    const id = parsed.ok ? parsed.frame.id : parsed.id;
    if (wait > 0) {
      return conn.send(
        errorFrame(id, "RATE_LIMITED", "too many requests on this connection", { retryAfterMs: wait }),
      );
    }
    if (!parsed.ok) return conn.send(errorFrameFrom(parsed.id, parsed.error));
    const { type, payload } = parsed.frame;
    const op = operations.get(type);
    if (!op) return conn.send(errorFrame(id, "UNKNOWN_OPERATION", `unknown operation "${type}"`));
    try {
      if (!hasRole(conn.principal.role, op.role)) {
        throw new StationError(
          "FORBIDDEN",
          `${type} needs the ${op.role} role; you are ${conn.principal.role}`,
        );
      }
      const input = op.payload.safeParse(payload ?? {});
      if (!input.success) {
        const issue = input.error.issues[0];
        throw new StationError(
          "VALIDATION_ERROR",
          `${issue?.path.join(".") || "payload"}: ${issue?.message}`,
          input.error.issues,
        );
      }
      conn.send(resultFrame(id, await op.handle(input.data, conn)));
    } catch (err) {
      if (!(err instanceof StationError)) logger.error("ws operation failed", { type, err });
      conn.send(errorFrameFrom(id, toStationError(err)));
    } finally {
      conn.replied();
    }
  }

  const handlers: SocketHandlers<AppSocketData> = {
    open(socket) {
      const conn = new AppConnection(socket, limits, clock.now());
      connections.set(conn.id, conn);
      // The socket lives no longer than its token.
      expiryTimers.set(
        conn.id,
        clock.setTimeout(
          () => socket.close(CLOSE_SESSION_REVOKED, "token expired"),
          conn.principal.expiresAt - clock.now(),
        ),
      );
      const p = conn.principal;
      conn.send(
        welcomeFrame({
          protocol: APP_PROTOCOL,
          serverTime: clock.now(),
          stationId: deps.stationId,
          user: { id: p.userId, role: p.role },
        }),
      );
    },
    message(socket, message) {
      const conn = connections.get(socket.data.connId);
      if (!conn) return;
      conn.stats.messagesIn++;
      const text = typeof message === "string" ? message : new TextDecoder().decode(message);
      void dispatch(conn, text);
    },
    close(socket) {
      const conn = connections.get(socket.data.connId);
      if (!conn) return;
      connections.delete(conn.id);
      clock.clearTimeout(expiryTimers.get(conn.id));
      expiryTimers.delete(conn.id);
      deps.onDisconnect?.(conn);
    },
    pong(socket) {
      const conn = connections.get(socket.data.connId);
      if (conn) conn.awaitingPong = false;
    },
    drain(socket) {
      connections.get(socket.data.connId)?.drain();
    },
  };

  return {
    handlers,
    /** Authenticates before the upgrade: a bad or missing token gets HTTP 401 and no socket. */
    async upgrade(request: Request, ctx: RequestContext<AppSocketData>): Promise<Response | undefined> {
      if (closing) return new StationError("UNAVAILABLE", "station is shutting down").toResponse();
      let principal: Awaited<ReturnType<AuthService["authenticate"]>>;
      try {
        principal = await deps.auth.authenticate(socketToken(request));
      } catch (err) {
        return toStationError(err).toResponse();
      }
      const data: AppSocketData = { kind: "app", connId: randomUUID(), principal, connectedAt: clock.now() };
      if (ctx.upgrade({ data, headers: upgradeHeaders(request) })) return undefined;
      return new StationError("VALIDATION_ERROR", "expected a WebSocket upgrade request").toResponse();
    },
    connections: () => [...connections.values()],
    start() {
      heartbeat = clock.setInterval(beat, heartbeatMs);
    },
    closeSession(sessionId: string) {
      for (const conn of connections.values()) {
        if (conn.principal.sessionId === sessionId)
          conn.socket.close(CLOSE_SESSION_REVOKED, "session revoked");
      }
    },
    /** Sends the shutdown notice and closes every socket with 1001. */
    shutdown(gracePeriodMs: number) {
      closing = true;
      const notice = systemFrame({ type: "system", event: "shutdown", gracePeriodMs });
      for (const conn of connections.values()) {
        conn.send(notice);
        conn.socket.close(1001, "station shutting down");
      }
    },
    stop() {
      clock.clearInterval(heartbeat);
      clock.clearTimeout(pongCheck);
      for (const timer of expiryTimers.values()) clock.clearTimeout(timer);
      expiryTimers.clear();
    },
  };
}

export type AppSocketServer = ReturnType<typeof createAppSocketServer>;
export type { SocketConnection };
