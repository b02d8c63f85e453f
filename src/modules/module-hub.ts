import { randomUUID } from "node:crypto";
import { createLoginRateLimiter, tokensEqual } from "../auth/index.ts";
import type { ModulesPolicy } from "../config/index.ts";
import {
  type Clock,
  createTokenBucket,
  StationError,
  type TimerHandle,
  type TokenBucket,
  zodErrorMessage,
} from "../core/index.ts";
import { isLoopbackAddress } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { RequestContext, SocketHandlers } from "../platform/index.ts";
import {
  announceDataSchema,
  authenticateDataSchema,
  CLOSE_MODULE_HEARTBEAT_TIMEOUT,
  heartbeatDataSchema,
  MODULE_INVALID_TOKEN,
  MODULE_NOT_AUTHENTICATED,
  type ModuleEvent,
  type ModuleIdentity,
  type ModuleServerEventData,
  type ModuleServerEventType,
  moduleServerEventData,
  type RegisteredModule,
  uiConfigureDataSchema,
} from "../protocol/index.ts";
import { type DecodedFrame, decodeModuleFrame, OutgoingEvent } from "./module-codec.ts";
import { type HubMember, ModulePeer, type ModulePeerLimits, type ModuleSocketData } from "./module-peer.ts";
import {
  collectDestinations,
  peerMatchesPolicy,
  routeIdentityOf,
  routeRecipients,
} from "./module-routing.ts";

export interface ModuleHubLimits extends ModulePeerLimits {
  /** Open `/ws/modules` sockets, authenticated or not. */
  maxSockets: number;
  /** Sockets that have not authenticated yet; a new one past this closes the oldest of them. */
  maxUnauthenticated: number;
  /** A module silent this long is dropped (AIRI's heartbeat read timeout). */
  heartbeatTimeoutMs: number;
  /** Device commands one module may have waiting at once. */
  commandsInFlight: number;
}

export const DEFAULT_MODULE_HUB_LIMITS: ModuleHubLimits = {
  maxSockets: 64,
  maxUnauthenticated: 16,
  heartbeatTimeoutMs: 60_000,
  bufferLimit: 256 * 1024,
  rateCapacity: 200,
  ratePerSecond: 100,
  commandsInFlight: 16,
};

export interface ModuleHubDeps {
  clock: Clock;
  logger: Logger;
  /** `AUTHENTICATION_TOKEN`; unset = no auth (then only loopback peers may connect). */
  token?: string;
  policy?: ModulesPolicy;
  /** The station's own module (`opengenie`): in the registry, routable like any peer. */
  station: { name: string; identity: ModuleIdentity };
  /** An event routed to the station's module. */
  onStationEvent?(event: ModuleEvent, from: ModulePeer): void;
  limits?: Partial<ModuleHubLimits>;
}

/** AIRI's `MessageHeartbeat.Pong`. */
const PONG = "\u{1F49B}";
/** Types only the hub sends: a module cannot forge a registry, an auth answer or a device event. */
const HUB_ONLY = new Set<string>(Object.keys(moduleServerEventData));

/**
 * The `/ws/modules` hub (CONTRACT.md section 4), an AIRI server-runtime for the published
 * `@proj-airi/server-sdk` client: authentication, announce and the registry, `ui:configure`,
 * heartbeats, and routing by destinations under the policy. Nothing it sends makes a
 * well-behaved client loop: the pre-auth heartbeat is answered, a wrong token gets one
 * `error {message:"invalid token"}`, never `module:authenticated {authenticated:false}`.
 */
export function createModuleHub(deps: ModuleHubDeps) {
  const { clock, logger, policy } = deps;
  const limits: ModuleHubLimits = { ...DEFAULT_MODULE_HUB_LIMITS, ...deps.limits };
  const peers = new Map<string, ModulePeer>();
  const announces = new Map<string, { bucket: TokenBucket; order: number }>();
  let announceOrder = 0;
  const station: HubMember = {
    id: deps.station.name,
    name: deps.station.name,
    authenticated: true,
    identity: deps.station.identity,
    route: routeIdentityOf(deps.station.identity),
  };
  // Failed tokens per client address: 5 a minute, then the next check waits (like sign-ins).
  const authFailures = createLoginRateLimiter(clock, 5, 60_000);
  const counters = {
    opened: 0,
    routed: 0,
    authFailures: 0,
    dropped: { rate: 0, congested: 0, invalid: 0, unauthenticated: 0, refused: 0 },
  };
  let sweep: TimerHandle | undefined;
  let syncScheduled = false;
  let closing = false;

  function serverEvent<T extends ModuleServerEventType>(
    type: T,
    data: ModuleServerEventData<T>,
    parentId?: string,
  ): OutgoingEvent {
    const metadata = {
      source: deps.station.identity,
      event: { id: randomUUID(), ...(parentId === undefined ? {} : { parentId }) },
    };
    return new OutgoingEvent(type, { type, data, metadata });
  }

  function send(peer: ModulePeer, event: OutgoingEvent, coalesceKey?: string) {
    if (!peer.deliver(event, coalesceKey)) counters.dropped.congested++;
  }

  function sendError(peer: ModulePeer, message: string, parentId?: string) {
    send(peer, serverEvent("error", { message }, parentId));
  }

  function registry(): RegisteredModule[] {
    const modules: RegisteredModule[] = [{ name: station.name, identity: deps.station.identity }];
    for (const p of peers.values()) {
      if (!p.authenticated || !p.name || !p.identity) continue;
      modules.push({
        name: p.name,
        ...(p.index === undefined ? {} : { index: p.index }),
        identity: p.identity,
      });
    }
    return modules;
  }

  function sendSync(peer: ModulePeer, parentId?: string) {
    // Only the latest registry matters to a peer that is behind: it waits under one key.
    send(peer, serverEvent("registry:modules:sync", { modules: registry() }, parentId), "registry");
  }

  /** Every join and leave re-sends the registry; changes within one tick share one sync. */
  function scheduleSync() {
    if (syncScheduled) return;
    syncScheduled = true;
    queueMicrotask(() => {
      syncScheduled = false;
      if (closing) return;
      const event = serverEvent("registry:modules:sync", { modules: registry() });
      for (const p of peers.values()) if (p.authenticated) send(p, event, "registry");
    });
  }

  function toOthers(from: ModulePeer, event: OutgoingEvent) {
    for (const p of peers.values()) if (p !== from && p.authenticated) send(p, event);
  }

  function registration(p: ModulePeer): RegisteredModule {
    return { name: p.name, ...(p.index === undefined ? {} : { index: p.index }), identity: p.identity! };
  }

  function deAnnounce(p: ModulePeer, reason: string) {
    if (!p.name || !p.identity) return;
    toOthers(p, serverEvent("module:de-announced", { ...registration(p), reason }));
    p.name = "";
    p.index = undefined;
    p.identity = undefined;
    p.route = undefined;
    scheduleSync();
  }

  function accept(peer: ModulePeer, parentId?: string) {
    peer.authenticated = true;
    send(peer, serverEvent("module:authenticated", { authenticated: true }, parentId));
    sendSync(peer, parentId);
  }

  function checkToken(peer: ModulePeer, token: string, parentId?: string) {
    const address = peer.socket.remoteAddress;
    const attempt = authFailures.attempt(address, address);
    if (tokensEqual(token, deps.token ?? "")) {
      attempt.succeeded();
      accept(peer, parentId);
      return;
    }
    counters.authFailures++;
    logger.warn("module authentication failed", { remoteAddress: address, connId: peer.id });
    // Once, as an error: the 0.8.4 client resends at once on {authenticated:false}, forever.
    sendError(peer, MODULE_INVALID_TOKEN, parentId);
  }

  function authenticate(peer: ModulePeer, event: ModuleEvent, parentId?: string) {
    if (!deps.token) return accept(peer, parentId);
    const parsed = authenticateDataSchema.safeParse(event.data);
    const token = parsed.success ? parsed.data.token : "";
    const address = peer.socket.remoteAddress;
    const wait = authFailures.retryAfter(address, address);
    if (wait <= 0) return checkToken(peer, token, parentId);
    // A guesser's address waits for its window; the answer comes then, so no client is told
    // "invalid token" for a right one and left stuck (the 0.8.4 client never retries it).
    clock.clearTimeout(peer.pendingAuth);
    peer.pendingAuth = clock.setTimeout(() => {
      peer.pendingAuth = undefined;
      if (peers.get(peer.id) === peer) checkToken(peer, token, parentId);
    }, wait);
  }

  function announce(peer: ModulePeer, event: ModuleEvent, kind: "module" | "extension", parentId?: string) {
    // One shape for both: the extension announce carries no index, and one given is kept.
    const parsed = announceDataSchema.safeParse(event.data);
    if (!parsed.success)
      return sendError(peer, `invalid ${event.type}: ${zodErrorMessage(parsed.error, "data")}`);
    if (!peer.authenticated) return sendError(peer, "must authenticate before announcing");
    const { name, identity, index } = parsed.data;
    const route = routeIdentityOf(identity);
    if (name === station.name || route.plugin === station.route?.plugin) {
      return sendError(peer, `the module name and plugin "${station.name}" belong to the station`);
    }
    const state = announces.get(peer.id) ?? { bucket: createTokenBucket(5, 1, clock.now()), order: 0 };
    announces.set(peer.id, state);
    // Each announce re-sends the registry to every peer: a module may not make that a flood.
    if (state.bucket.take(clock.now()) > 0) return sendError(peer, "announcing too often; wait a second");
    deAnnounce(peer, "re-announcing");
    state.order = ++announceOrder;
    peer.name = name;
    peer.index = index;
    peer.identity = identity;
    peer.route = route;
    if (kind === "extension") send(peer, serverEvent("extension:module:announced", parsed.data, parentId));
    toOthers(peer, serverEvent("module:announced", registration(peer), parentId));
    scheduleSync();
  }

  /** The module `ui:configure` names: by index when given, else the unindexed or only one. */
  function findModule(name: string, index: number | undefined): ModulePeer | undefined {
    const named = [...peers.values()]
      .filter((p) => p.authenticated && p.name === name)
      .sort((a, b) => (announces.get(a.id)?.order ?? 0) - (announces.get(b.id)?.order ?? 0));
    if (index !== undefined) return named.findLast((p) => p.index === index);
    return named.findLast((p) => p.index === undefined) ?? (named.length === 1 ? named[0] : undefined);
  }

  function configure(peer: ModulePeer, event: ModuleEvent, parentId?: string) {
    if (!peer.authenticated) return sendError(peer, MODULE_NOT_AUTHENTICATED, parentId);
    const parsed = uiConfigureDataSchema.safeParse(event.data);
    if (!parsed.success)
      return sendError(peer, `invalid ui:configure: ${zodErrorMessage(parsed.error, "data")}`);
    const target = findModule(parsed.data.moduleName, parsed.data.moduleIndex);
    const allowed =
      !policy || (peerMatchesPolicy(peer, policy) && target && peerMatchesPolicy(target, policy));
    if (!target || !allowed) {
      return sendError(
        peer,
        "module not found, it hasn't announced itself or the name is incorrect",
        parentId,
      );
    }
    const configureEvent = {
      type: "module:configure",
      data: { config: parsed.data.config },
      metadata: event.metadata,
    };
    send(target, new OutgoingEvent("module:configure", configureEvent));
  }

  function route(peer: ModulePeer, decoded: Extract<DecodedFrame, { ok: true }>, text: string) {
    const { event } = decoded;
    if (!peer.authenticated) {
      counters.dropped.unauthenticated++;
      peer.stats.dropped++;
      // Said once per socket, not per event, and never the exact text the 0.8.4 client reconnects on.
      if (!peer.notAuthenticatedSent) sendError(peer, MODULE_NOT_AUTHENTICATED, event.metadata?.event?.id);
      peer.notAuthenticatedSent = true;
      return;
    }
    if (HUB_ONLY.has(event.type)) {
      counters.dropped.refused++;
      return sendError(peer, `${event.type} is sent by the hub, not by modules`, event.metadata?.event?.id);
    }
    const recipients = routeRecipients<HubMember>({
      from: peer,
      peers: [station, ...peers.values()],
      destinations: collectDestinations(event),
      bypass: event.route?.bypass === true,
      policy,
    });
    const outgoing = new OutgoingEvent(event.type, decoded.value, { text, encoding: decoded.encoding });
    counters.routed++;
    for (const recipient of recipients) {
      if (recipient instanceof ModulePeer) send(recipient, outgoing);
      else deps.onStationEvent?.(event, peer);
    }
  }

  function handle(peer: ModulePeer, decoded: Extract<DecodedFrame, { ok: true }>, text: string) {
    const { event } = decoded;
    const parentId = event.metadata?.event?.id;
    switch (event.type) {
      case "transport:connection:heartbeat": {
        // Answered before any auth: a 0.8.4 client sends its first ping before its token, and
        // reconnects at once if that ping is answered with an error.
        const beat = heartbeatDataSchema.safeParse(event.data);
        if (beat.success && beat.data.kind === "ping") {
          send(
            peer,
            serverEvent(
              "transport:connection:heartbeat",
              { kind: "pong", message: PONG, at: clock.now() },
              parentId,
            ),
          );
        }
        return;
      }
      case "module:authenticate":
        return authenticate(peer, event, parentId);
      case "module:announce":
        return announce(peer, event, "module", parentId);
      case "extension:module:announce":
        return announce(peer, event, "extension", parentId);
      case "ui:configure":
        return configure(peer, event, parentId);
      default:
        return route(peer, decoded, text);
    }
  }

  const handlers: SocketHandlers<ModuleSocketData> = {
    open(socket) {
      if (peers.size >= limits.maxSockets) {
        socket.close(1013, "too many module connections; try again later");
        return;
      }
      const peer = new ModulePeer(socket, limits, clock.now(), !deps.token);
      peers.set(peer.id, peer);
      counters.opened++;
      if (!deps.token) accept(peer);
      // A socket that never authenticates cannot hold a place for long: the oldest one goes.
      const waiting = [...peers.values()].filter((p) => !p.authenticated);
      if (waiting.length > limits.maxUnauthenticated)
        waiting[0]!.socket.close(1008, "too many unauthenticated module connections");
    },
    message(socket, message) {
      const peer = peers.get(socket.data.connId);
      if (!peer) return;
      const now = clock.now();
      peer.stats.messagesIn++;
      peer.lastSeen = now;
      if (peer.rate.take(now) > 0) {
        counters.dropped.rate++;
        peer.stats.dropped++;
        if (!peer.rateNoticeSent) sendError(peer, "rate limited: frames are being dropped; slow down");
        peer.rateNoticeSent = true;
        return;
      }
      peer.rateNoticeSent = false;
      try {
        const text = typeof message === "string" ? message : new TextDecoder().decode(message);
        const decoded = decodeModuleFrame(text);
        if (decoded.encoding) peer.encoding = decoded.encoding;
        if (!decoded.ok) {
          counters.dropped.invalid++;
          return sendError(peer, decoded.reason === "not-json" ? "invalid JSON" : "invalid event format");
        }
        handle(peer, decoded, text);
      } catch (err) {
        // A peer never takes the hub down; whatever slipped past the parser is logged and dropped.
        counters.dropped.invalid++;
        logger.error("handling a module frame failed", { connId: peer.id, err });
      }
    },
    close(socket) {
      const peer = peers.get(socket.data.connId);
      if (!peer) return;
      peers.delete(peer.id);
      announces.delete(peer.id);
      clock.clearTimeout(peer.pendingAuth);
      deAnnounce(peer, "connection closed");
    },
    drain(socket) {
      peers.get(socket.data.connId)?.drain();
    },
  };

  return {
    handlers,
    async upgrade(_request: Request, ctx: RequestContext<ModuleSocketData>): Promise<Response | undefined> {
      if (closing) return new StationError("UNAVAILABLE", "station is shutting down").toResponse();
      if (!deps.token && !isLoopbackAddress(ctx.remoteAddress)) {
        return new StationError(
          "FORBIDDEN",
          "the module hub has no AUTHENTICATION_TOKEN, so it accepts modules on this machine only; set one to accept others",
        ).toResponse();
      }
      if (peers.size >= limits.maxSockets) {
        return new StationError("RATE_LIMITED", `at most ${limits.maxSockets} module connections`, {
          retryAfterMs: 1000,
        }).toResponse();
      }
      const data: ModuleSocketData = { kind: "module", connId: randomUUID(), connectedAt: clock.now() };
      if (ctx.upgrade({ data })) return undefined;
      return new StationError("VALIDATION_ERROR", "expected a WebSocket upgrade request").toResponse();
    },
    /** The station's module publishes an event (a device change) like any peer: routed under the policy. */
    publish<T extends ModuleServerEventType>(type: T, data: ModuleServerEventData<T>, coalesceKey?: string) {
      const recipients = routeRecipients<HubMember>({
        from: station,
        peers: peers.values(),
        destinations: undefined,
        bypass: false,
        policy,
      });
      if (recipients.length === 0) return;
      const event = serverEvent(type, data);
      for (const r of recipients) if (r instanceof ModulePeer) send(r, event, coalesceKey);
    },
    /** The station's module answers the peer that asked it something, if it is still here. */
    reply<T extends ModuleServerEventType>(
      to: ModulePeer,
      type: T,
      data: ModuleServerEventData<T>,
      parentId?: string,
    ) {
      if (peers.get(to.id) === to) send(to, serverEvent(type, data, parentId));
    },
    peers: () => [...peers.values()],
    registry,
    counters,
    start() {
      closing = false;
      // A module silent for the heartbeat timeout is dropped; the 0.8.4 client pings every 30 s.
      sweep = clock.setInterval(
        () => {
          const now = clock.now();
          for (const p of peers.values()) {
            if (now - p.lastSeen > limits.heartbeatTimeoutMs)
              p.socket.close(CLOSE_MODULE_HEARTBEAT_TIMEOUT, "no heartbeat within the timeout");
          }
        },
        Math.min(10_000, limits.heartbeatTimeoutMs / 2),
      );
    },
    shutdown() {
      closing = true;
      for (const p of peers.values()) p.socket.close(1001, "station shutting down");
    },
    stop() {
      closing = true;
      clock.clearInterval(sweep);
      for (const p of peers.values()) clock.clearTimeout(p.pendingAuth);
    },
  };
}

export type ModuleHub = ReturnType<typeof createModuleHub>;
