/** The public shape of the `/ws` client (docs/protocol.md describes the wire). */
import type { BackoffOptions, Clock } from "../core/index.ts";
import type { Channel, SubscriptionFilter, SystemFrame, WelcomeFrame as Welcome } from "../protocol/index.ts";
import type { PushHandler } from "./client-subscriptions.ts";
import type { StationClientError } from "./station-client-error.ts";

export interface StationClientOptions {
  /** `ws://host:port` (the `/ws` path is added) or a full `ws://host:port/ws` URL. */
  url: string;
  token: string;
  WebSocketImpl?: typeof WebSocket;
  /** Default `{ initialMs: 500, maxMs: 30_000, jitter: 0.2 }`; `false` never reconnects. */
  reconnect?: BackoffOptions | false;
  clock?: Clock;
  random?: () => number;
  /** Default 10 000 ms for every request without its own `timeoutMs`. */
  requestTimeoutMs?: number;
  /** Asks `GET /api/auth/me` after a failed upgrade, to tell a refused token from a network error. */
  fetchImpl?: typeof fetch;
}

/** idle → connecting → open ⇄ reconnecting; closed after close(); failed after a fatal error. */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "failed";

export interface ClientSubscription {
  /** Stable across reconnects (the station's own id changes with every socket). */
  readonly subscriptionId: string;
  unsubscribe(): Promise<void>;
}

export interface StationClient {
  connect(): Promise<Welcome>;
  request<T = unknown>(type: string, payload?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  subscribe(
    channel: Channel,
    filter: SubscriptionFilter | undefined,
    onPush: PushHandler,
  ): Promise<ClientSubscription>;
  onSystem(handler: (frame: SystemFrame) => void): () => void;
  onStateChange(handler: (state: ClientState, error?: StationClientError) => void): () => void;
  close(): void;
  readonly state: ClientState;
  readonly welcome: Welcome | undefined;
  /** Set when the state is `failed`. */
  readonly error: StationClientError | undefined;
}
