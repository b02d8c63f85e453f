import { randomUUID } from "node:crypto";
import {
  type Clock,
  createTokenBucket,
  StationError,
  type TimerHandle,
  type TokenBucket,
} from "../core/index.ts";
import { bearerToken, isLoopbackAddress } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { RequestContext, SocketConnection, SocketHandlers } from "../platform/index.ts";
import {
  DRIVER_CLOSE_REPLACED,
  DRIVER_CLOSE_REVOKED,
  DRIVER_CLOSE_TIMEOUT,
  type StationDriverFrame,
} from "../protocol/index.ts";
import { DEFAULT_DRIVER_LIMITS, type DriverLimits } from "./driver-limits.ts";
import {
  type DriverEvent,
  type DriverProblem,
  type DriverRejectReason,
  errorFrame,
  parseDriverMessage,
} from "./driver-messages.ts";

export interface DriverSocketData {
  kind: "driver";
  connId: string;
  /** The driverKey its token allows; undefined for a token-less driver trusted on loopback. */
  tokenDriverKey?: string;
  connectedAt: number;
}

/** A registered driver session, as the rest of the station sees it. */
export interface DriverSession {
  readonly connId: string;
  readonly driverKey: string;
  readonly instanceId: string;
  readonly name?: string;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  readonly trustedLoopback: boolean;
  /** Sends a frame; false when the socket is gone or its send buffer is full. */
  send(frame: StationDriverFrame): boolean;
}

/** What the socket server hands on: registered sessions and their events. */
export interface DriverHub {
  /** The driverKey a token belongs to, if it is a current one. */
  driverKeyOf(token: string): Promise<string | undefined>;
  registered(session: DriverSession): Promise<void> | void;
  ended(session: DriverSession): void;
  /** One event of a registered session; a problem goes back to the driver as an error frame. */
  handle(session: DriverSession, event: DriverEvent): Promise<DriverProblem | undefined>;
}

interface Connection {
  socket: SocketConnection<DriverSocketData>;
  session?: DriverSession;
  stats: { messagesIn: number; messagesOut: number; dropped: number };
  rate: TokenBucket;
  /** Told it is over its budget since it last got a message through (one notice per burst). */
  rateNoticeSent: boolean;
  awaitingPong: boolean;
  queue: Promise<void>;
  /** Characters of messages waiting in `queue`. */
  queuedChars: number;
  registerTimer?: TimerHandle;
}

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
  const connections = new Map<string, Connection>();
  /** Registered sessions by `driverKey/instanceId`. */
  const sessions = new Map<string, Connection>();
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

  const sessionKey = (driverKey: string, instanceId: string) => `${driverKey}/${instanceId}`;

  function send(conn: Connection, frame: StationDriverFrame): boolean {
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

  function refuse(conn: Connection, p: DriverProblem) {
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

  function register(conn: Connection, params: { driverKey: string; instanceId: string; name?: string }) {
    const { driverKey, instanceId } = params;
    const current = conn.session;
    if (current) {
      if (current.driverKey === driverKey && current.instanceId === instanceId) {
        send(conn, { event: "REGISTERED", ok: true, driverKey, instanceId });
        return;
      }
      return refuse(conn, {
        reason: "invalid",
        error: "This connection is already registered.",
        details: [
          `It is ${current.driverKey} ${current.instanceId}; open another connection for another driver.`,
        ],
      });
    }
    const allowed = conn.socket.data.tokenDriverKey;
    if (allowed !== undefined && allowed !== driverKey) {
      refuse(conn, {
        reason: "forbidden",
        code: "DRIVER_WS_FORBIDDEN",
        error: `This token is not for driverKey ${driverKey}.`,
        details: [`Create one with: opengenie driver token ${driverKey}`],
      });
      conn.socket.close(DRIVER_CLOSE_REVOKED, "token not valid for this driverKey");
      return;
    }
    const key = sessionKey(driverKey, instanceId);
    const previous = sessions.get(key);
    const instances = [...sessions.values()].filter((c) => c.session?.driverKey === driverKey).length;
    if (!previous && instances >= limits.instancesPerDriver) {
      return refuse(conn, {
        reason: "limit",
        error: "Too many instances.",
        details: [`At most ${limits.instancesPerDriver} instances of one driverKey may be connected.`],
      });
    }
    clock.clearTimeout(conn.registerTimer);
    const session: DriverSession = {
      connId: conn.socket.data.connId,
      driverKey,
      instanceId,
      ...(params.name ? { name: params.name } : {}),
      remoteAddress: conn.socket.remoteAddress,
      connectedAt: conn.socket.data.connectedAt,
      trustedLoopback: allowed === undefined,
      send: (frame) => connections.has(conn.socket.data.connId) && send(conn, frame),
    };
    conn.session = session;
    sessions.set(key, conn);
    send(conn, { event: "REGISTERED", ok: true, driverKey, instanceId });
    // The newest session wins, as a restarted driver reconnects before the old socket times out.
    previous?.socket.close(DRIVER_CLOSE_REPLACED, "replaced by a newer session");
    logger.info("driver registered", { driverKey, instanceId, remoteAddress: session.remoteAddress });
    return hub.registered(session);
  }

  async function handle(conn: Connection, text: string) {
    const message = parseDriverMessage(text);
    if (message.kind === "problem") return refuse(conn, message.problem);
    if (message.kind === "register") return register(conn, message.params);
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
      const conn: Connection = {
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
