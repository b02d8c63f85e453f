import { randomUUID } from "node:crypto";
import { StationError, type TimerHandle } from "../core/index.ts";
import { isLoopbackAddress } from "../http/index.ts";
import type { RequestContext, SocketHandlers } from "../platform/index.ts";
import {
  CLOSE_MODULE_HEARTBEAT_TIMEOUT,
  heartbeatDataSchema,
  MODULE_NOT_AUTHENTICATED,
  type ModuleServerEventData,
  type ModuleServerEventType,
  moduleServerEventData,
} from "../protocol/index.ts";
import { type DecodedFrame, decodeModuleFrame, OutgoingEvent } from "./module-codec.ts";
import { createModuleHubAuth } from "./module-hub-auth.ts";
import {
  createModuleHubCounters,
  DEFAULT_MODULE_HUB_LIMITS,
  type ModuleHubDeps,
  type ModuleHubLimits,
} from "./module-hub-limits.ts";
import { createModuleHubOutbox } from "./module-hub-outbox.ts";
import { createModuleHubRegistry } from "./module-hub-registry.ts";
import { type HubMember, ModulePeer, type ModuleSocketData } from "./module-peer.ts";
import { collectDestinations, routeIdentityOf, routeRecipients } from "./module-routing.ts";

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
  const station: HubMember = {
    id: deps.station.name,
    name: deps.station.name,
    authenticated: true,
    identity: deps.station.identity,
    route: routeIdentityOf(deps.station.identity),
  };
  const counters = createModuleHubCounters();
  let sweep: TimerHandle | undefined;
  let closing = false;

  const outbox = createModuleHubOutbox({ source: deps.station.identity, counters });
  const { serverEvent, send, sendError } = outbox;
  const modules = createModuleHubRegistry({
    clock,
    policy,
    station,
    stationIdentity: deps.station.identity,
    peers,
    outbox,
    isClosing: () => closing,
  });
  const { registry } = modules;
  const auth = createModuleHubAuth({
    clock,
    logger,
    token: deps.token,
    peers,
    counters,
    outbox,
    sendSync: modules.sendSync,
  });

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
        return auth.authenticate(peer, event, parentId);
      case "module:announce":
        return modules.announce(peer, event, "module", parentId);
      case "extension:module:announce":
        return modules.announce(peer, event, "extension", parentId);
      case "ui:configure":
        return modules.configure(peer, event, parentId);
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
      if (!deps.token) auth.accept(peer);
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
      clock.clearTimeout(peer.pendingAuth);
      modules.leave(peer);
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
