import { randomUUID } from "node:crypto";
import type { AuthService, Role } from "../auth/index.ts";
import { hasRole } from "../auth/index.ts";
import {
  type Clock,
  createTokenBucket,
  StationError,
  type TimerHandle,
  type TokenBucket,
  toStationError,
  zodErrorMessage,
  zodIssues,
} from "../core/index.ts";
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
import { APP_PROTOCOL, offeredProtocols, socketToken, upgradeHeaders } from "./socket-token.ts";

export interface AppSocketDeps {
  auth: AuthService;
  clock: Clock;
  logger: Logger;
  stationId: string;
  /** Read at start(): every `/ws` operation the station's modules contribute. */
  operations: () => readonly Operation[];
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
    socketsPerUser: 64,
    userRateCapacity: 120,
    userRatePerSecond: 60,
    ...deps.limits,
  };
  // Per user: sockets open or being upgraded, and the request budget they share.
  const users = new Map<string, { sockets: number; rate: TokenBucket }>();
  const releaseUser = (userId: string) => {
    const user = users.get(userId);
    if (user && --user.sockets <= 0) users.delete(userId);
  };
  const heartbeatMs = deps.heartbeatMs ?? 30_000;
  const pongTimeoutMs = deps.pongTimeoutMs ?? 10_000;
  const connections = new Map<string, AppConnection>();
  let operations = new Map<string, Operation>();
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
    // Every frame counts against the rate limits, the socket's and its user's, parseable or not.
    const now = clock.now();
    const wait = Math.max(conn.rate.take(now), users.get(conn.principal.userId)?.rate.take(now) ?? 0);
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
        throw new StationError(
          "VALIDATION_ERROR",
          zodErrorMessage(input.error, "payload"),
          zodIssues(input.error),
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
      releaseUser(conn.principal.userId);
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
      const offered = offeredProtocols(request);
      if (offered.length > 0 && !offered.includes(APP_PROTOCOL)) {
        // Selecting nothing would let the server echo the first offer, the bearer token itself.
        return new StationError(
          "VALIDATION_ERROR",
          `offer the ${APP_PROTOCOL} subprotocol alongside opengenie.bearer.<token>, or pass ?token=`,
        ).toResponse();
      }
      const user = users.get(principal.userId) ?? {
        sockets: 0,
        rate: createTokenBucket(limits.userRateCapacity, limits.userRatePerSecond, clock.now()),
      };
      if (user.sockets >= limits.socketsPerUser) {
        return new StationError(
          "RATE_LIMITED",
          `at most ${limits.socketsPerUser} open /ws sockets per user; close some first`,
          { retryAfterMs: 1000 },
        ).toResponse();
      }
      user.sockets++;
      users.set(principal.userId, user);
      const data: AppSocketData = { kind: "app", connId: randomUUID(), principal, connectedAt: clock.now() };
      if (ctx.upgrade({ data, headers: upgradeHeaders(request) })) return undefined;
      releaseUser(principal.userId);
      return new StationError("VALIDATION_ERROR", "expected a WebSocket upgrade request").toResponse();
    },
    connections: () => [...connections.values()],
    start() {
      operations = new Map(deps.operations().map((op) => [op.type, op]));
      heartbeat = clock.setInterval(beat, heartbeatMs);
    },
    /** A role change reaches the user's open sockets at once, not only their next connection. */
    changeRole(userId: string, role: Role) {
      for (const conn of connections.values()) {
        const data = conn.socket.data;
        if (data.principal.userId === userId) data.principal = { ...data.principal, role };
      }
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
