import type { ModulesPolicy } from "../config/index.ts";
import type { Clock } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { ModuleEvent, ModuleIdentity } from "../protocol/index.ts";
import type { ModulePeer, ModulePeerLimits } from "./module-peer.ts";

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

/** What the hub counts; the metrics read it. */
export interface ModuleHubCounters {
  opened: number;
  routed: number;
  authFailures: number;
  dropped: { rate: number; congested: number; invalid: number; unauthenticated: number; refused: number };
}

export function createModuleHubCounters(): ModuleHubCounters {
  return {
    opened: 0,
    routed: 0,
    authFailures: 0,
    dropped: { rate: 0, congested: 0, invalid: 0, unauthenticated: 0, refused: 0 },
  };
}
