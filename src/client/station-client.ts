/**
 * A typed client for the station's `/ws` app socket (CONTRACT.md section 4, docs/protocol.md).
 * Runtime-neutral: only the standard WebSocket and fetch. It reconnects with capped, jittered
 * backoff after an unexpected close and re-subscribes every live handle; a revoked session
 * (close 4003) or a token the station refuses (HTTP 401) is fatal instead.
 */
import { backoffDelay, createSystemClock, listen, type TimerHandle } from "../core/index.ts";
import {
  APP_PROTOCOL,
  BEARER_PROTOCOL_PREFIX,
  CLOSE_SESSION_REVOKED,
  type SystemFrame,
  type WelcomeFrame as Welcome,
} from "../protocol/index.ts";
import { createClientSubscriptions } from "./client-subscriptions.ts";
import { createPendingRequests } from "./pending-requests.ts";
import { parseServerFrame } from "./server-frames.ts";
import { StationClientError } from "./station-client-error.ts";
import type { ClientState, StationClient, StationClientOptions } from "./station-client-types.ts";
import { diagnoseFailedUpgrade, socketUrl } from "./upgrade-diagnosis.ts";

export function createStationClient(options: StationClientOptions): StationClient {
  const clock = options.clock ?? createSystemClock();
  const Impl = options.WebSocketImpl ?? globalThis.WebSocket;
  const backoff = options.reconnect ?? { initialMs: 500, maxMs: 30_000, jitter: 0.2 };
  const subs = createClientSubscriptions();
  const requests = createPendingRequests(clock, options.requestTimeoutMs ?? 10_000);
  const systemHandlers = new Set<(frame: SystemFrame) => void>();
  const stateHandlers = new Set<(state: ClientState, error?: StationClientError) => void>();
  let state: ClientState = "idle";
  let socket: WebSocket | undefined;
  let welcome: Welcome | undefined;
  let fatal: StationClientError | undefined;
  let connecting: Promise<Welcome> | undefined;
  let attempt = 0;
  let retryTimer: TimerHandle | undefined;

  function setState(next: ClientState, error?: StationClientError) {
    state = next;
    for (const handler of stateHandlers) handler(next, error);
  }

  function onText(ws: WebSocket, text: string, welcomed: (w: Welcome) => void) {
    const parsed = parseServerFrame(text);
    if (!parsed || ws !== socket) return; // not this protocol, or a socket we already left
    if (parsed.type === "welcome") return welcomed(parsed.frame);
    if (parsed.type === "push") return subs.route(parsed.frame);
    if (parsed.type === "system") {
      for (const handler of systemHandlers) handler(parsed.frame);
      return;
    }
    requests.settle(parsed.frame);
  }

  /** Opens one socket; resolves on the welcome frame, rejects if it closes before that. */
  function openSocket(): Promise<Welcome> {
    return new Promise<Welcome>((resolve, reject) => {
      const ws = new Impl(socketUrl(options.url), [
        APP_PROTOCOL,
        `${BEARER_PROTOCOL_PREFIX}${options.token}`,
      ]);
      socket = ws;
      let welcomed = false;
      ws.addEventListener("message", (event) => {
        onText(ws, typeof event.data === "string" ? event.data : String(event.data), (w) => {
          welcomed = true;
          welcome = w;
          resolve(w);
        });
      });
      ws.addEventListener("close", (event) => {
        if (!welcomed) reject(event);
        if (ws !== socket) return; // close() or fail() already let go of it
        socket = undefined;
        subs.unbindAll();
        requests.failAll("DISCONNECTED", `the connection closed (${event.code} ${event.reason})`.trim());
        if (welcomed) onLost(event.code, event.reason);
      });
    });
  }

  async function resubscribe(ws: WebSocket) {
    for (const entry of subs.active()) {
      const { subscriptionId } = await requests.send<{ subscriptionId: string }>(ws, "subscribe", {
        channel: entry.channel,
        ...(entry.filter ? { filter: entry.filter } : {}),
      });
      subs.bind(entry, subscriptionId);
    }
  }

  /** One connection attempt after the first: re-subscribes before reporting `open`. */
  async function attemptReconnect() {
    retryTimer = undefined;
    let ws: WebSocket | undefined;
    try {
      await openSocket();
      ws = socket;
      if (ws) await resubscribe(ws);
    } catch (err) {
      // Lost again after the welcome: the close handler has already scheduled the next try.
      if (err instanceof StationClientError && err.code === "DISCONNECTED") return;
      if (err instanceof StationClientError) {
        ws?.close(4000, "re-subscribing failed"); // the close handler retries with backoff
        return;
      }
      if (state !== "reconnecting") return;
      const refused = await diagnoseFailedUpgrade(options);
      if (refused) return fail(refused);
      if (state === "reconnecting") scheduleReconnect();
      return;
    }
    if (state !== "reconnecting" || ws !== socket) return;
    attempt = 0;
    setState("open");
  }

  function scheduleReconnect() {
    if (backoff === false) return setState("closed");
    const delay = backoffDelay(attempt++, backoff, options.random);
    retryTimer = clock.setTimeout(() => void attemptReconnect(), delay);
  }

  function onLost(code: number, reason: string) {
    if (state === "closed" || state === "failed") return;
    if (code === CLOSE_SESSION_REVOKED) {
      return fail(
        new StationClientError("SESSION_REVOKED", `the station ended the session: ${reason}`, { code }),
      );
    }
    setState("reconnecting");
    scheduleReconnect();
  }

  function fail(error: StationClientError) {
    fatal = error;
    clock.clearTimeout(retryTimer);
    socket?.close(1000);
    socket = undefined;
    requests.failAll("DISCONNECTED", error.message);
    setState("failed", error);
  }

  const client: StationClient = {
    connect() {
      if (state === "open" && welcome) return Promise.resolve(welcome);
      if (connecting) return connecting;
      if (state === "failed" || state === "reconnecting") {
        return Promise.reject(fatal ?? new StationClientError("DISCONNECTED", "reconnecting"));
      }
      setState("connecting");
      connecting = openSocket()
        .then((w) => {
          if (state === "connecting") setState("open");
          return w;
        })
        .catch(async (event: { code?: number; message?: string }) => {
          if (state !== "connecting") throw new StationClientError("CLOSED", "the client was closed");
          const refused = await diagnoseFailedUpgrade(options);
          const why = event.code === undefined ? event.message : `close ${event.code}`;
          const error =
            refused ??
            new StationClientError("CONNECT_FAILED", `cannot open ${socketUrl(options.url)} (${why})`);
          if (refused) fatal = refused;
          setState(refused ? "failed" : "closed", error);
          throw error;
        })
        .finally(() => {
          connecting = undefined;
        });
      return connecting;
    },
    request<T>(type: string, payload?: unknown, opts: { timeoutMs?: number } = {}) {
      if (state !== "open" || !socket) {
        return Promise.reject(fatal ?? new StationClientError("DISCONNECTED", `not connected (${state})`));
      }
      return requests.send<T>(socket, type, payload, opts.timeoutMs);
    },
    async subscribe(channel, filter, onPush) {
      const entry = subs.add(channel, filter, onPush);
      try {
        const { subscriptionId } = await client.request<{ subscriptionId: string }>("subscribe", {
          channel,
          ...(filter ? { filter } : {}),
        });
        subs.bind(entry, subscriptionId);
      } catch (err) {
        subs.remove(entry);
        throw err;
      }
      return {
        subscriptionId: entry.id,
        unsubscribe: async () => {
          const serverId = entry.serverId;
          subs.remove(entry);
          if (serverId && state === "open" && socket)
            await requests.send(socket, "unsubscribe", { subscriptionId: serverId });
        },
      };
    },
    onSystem(handler) {
      return listen(systemHandlers, handler);
    },
    onStateChange(handler) {
      return listen(stateHandlers, handler);
    },
    close() {
      clock.clearTimeout(retryTimer);
      const ws = socket;
      socket = undefined;
      if (state !== "failed") setState("closed");
      requests.failAll("CLOSED", "the client was closed");
      ws?.close(1000, "client closed");
    },
    get state() {
      return state;
    },
    get welcome() {
      return welcome;
    },
    get error() {
      return fatal;
    },
  };
  return client;
}
