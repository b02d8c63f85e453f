/**
 * The one shape every part of the station has (STYLE.md, docs/architecture.md): a station
 * module. `createStation` builds the core (clock, bus, storage, auth, device core), then a
 * plain list of modules; it mounts what each contributes, starts them in list order and stops
 * them in reverse. A new transport or consumer is one folder and one line in that list.
 */
import type { CommandSink, Transport } from "./devices/index.ts";
import type { Access, ConnectionInfo, Health, RouteGroup, UpgradeHandler } from "./http/index.ts";
import type { MetricDefinition } from "./metrics/index.ts";
import type { SocketHandlers } from "./platform/index.ts";
import type { Channel, ChannelHooks, Operation } from "./ws/index.ts";

/** A WebSocket endpoint on the one port: the upgrade decides who gets in, the handlers serve them. */
export interface SocketEndpoint<T extends { kind: string } = { kind: string }> {
  path: string;
  /** Every socket this endpoint accepts carries this tag in its data, so events reach these handlers. */
  kind: T["kind"];
  /**
   * Who may connect: an account role (token checked before the upgrade), a device credential,
   * a driver token, or a module token (the AIRI handshake checks it after the upgrade, and
   * nothing is routed to or from a socket before it does).
   */
  access: Access | "device" | "driver" | "module token";
  upgrade: UpgradeHandler<T>;
  handlers: SocketHandlers<T>;
}

/** A plain HTTP endpoint outside /api (e.g. `GET /metrics`), with its own access rule. */
export interface HttpEndpoint {
  path: string;
  access: string;
  handle(request: Request, remoteAddress: string): Promise<Response>;
}

/** What a module is told when it starts: the station's modules, in start order, itself included. */
export interface StationContext {
  readonly modules: readonly StationModule[];
}

export interface StationModule {
  readonly name: string;
  /** A critical module that fails to start stops the station; any other is logged and skipped. */
  readonly critical?: boolean;
  /**
   * Route groups mounted under /api; every route declares its access (`defineRoute`). A group
   * that `lazyRoutes` wraps is built on its first request, not at start (issue 17).
   */
  readonly routes?: readonly RouteGroup[];
  /** `/ws` request types; each declares its role. */
  readonly operations?: readonly Operation[];
  readonly sockets?: readonly SocketEndpoint[];
  readonly endpoints?: readonly HttpEndpoint[];
  /** How this module delivers a device command, per transport it serves. */
  readonly commandSinks?: Partial<Record<Transport, CommandSink>>;
  /** Hooks for `/ws` push channels this module feeds (e.g. the BLE scan runs while watched). */
  readonly channels?: Partial<Record<Channel, ChannelHooks>>;
  /** Read at scrape time. */
  readonly metrics?: readonly MetricDefinition[];
  /** Fields this module adds to `GET /api/health`. */
  health?(): Partial<Health>;
  /** Live connections for `GET /api/connections`. */
  connections?(): ConnectionInfo[];
  /**
   * Subscribes to the bus, opens sockets, starts timers: nothing of that happens before. A
   * module that serves what others contribute (operations, routes, metrics) reads them here.
   */
  start?(context: StationContext): Promise<void> | void;
  /** Tells this module's clients the station is going away, before any module stops. */
  announceShutdown?(gracePeriodMs: number): void;
  /** Undoes start(): every listener, timer and socket it added. */
  stop?(): Promise<void> | void;
}

/** Keeps an endpoint's socket data type tied to its handlers while listing it with others. */
export function socketEndpoint<T extends { kind: string }>(endpoint: SocketEndpoint<T>): SocketEndpoint {
  return endpoint as unknown as SocketEndpoint;
}
