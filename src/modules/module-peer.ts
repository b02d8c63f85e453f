import type { TimerHandle } from "../core/index.ts";
import { createTokenBucket, type TokenBucket } from "../core/index.ts";
import type { SocketConnection } from "../platform/index.ts";
import type { ModuleIdentity } from "../protocol/index.ts";
import type { ModuleEncoding, OutgoingEvent } from "./module-codec.ts";
import type { RouteIdentity, RoutingPeer } from "./module-routing.ts";

export interface ModuleSocketData {
  kind: "module";
  connId: string;
  connectedAt: number;
}

export interface ModulePeerLimits {
  /** Above this many buffered bytes, frames to the peer are dropped (or coalesced) instead of queued. */
  bufferLimit: number;
  rateCapacity: number;
  ratePerSecond: number;
}

/** What every member of the hub has: the station's own module and each socket peer. */
export interface HubMember extends RoutingPeer {
  readonly name: string;
  readonly index?: number;
  readonly identity?: ModuleIdentity;
}

/**
 * One `/ws/modules` socket: its registration, encoding and counters, and the rule that keeps a
 * slow reader from growing memory: past the buffer limit, frames are dropped and counted,
 * except those with a coalesce key (the registry, a device's state), of which the latest waits.
 */
export class ModulePeer implements HubMember {
  authenticated: boolean;
  name = "";
  index?: number;
  identity?: ModuleIdentity;
  route?: RouteIdentity;
  /** The encoding of the peer's last frame; superjson, what the 0.8.4 client reads, until it speaks. */
  encoding: ModuleEncoding = "superjson";
  lastSeen: number;
  readonly stats = { messagesIn: 0, messagesOut: 0, dropped: 0 };
  readonly rate: TokenBucket;
  /** Set once a rate-limit notice went out, cleared when a frame is accepted again. */
  rateNoticeSent = false;
  /** Set once an unauthenticated peer has been told its events go nowhere. */
  notAuthenticatedSent = false;
  commandsInFlight = 0;
  /** A deferred token check while this address is throttled (at most one per peer). */
  pendingAuth?: TimerHandle;
  private readonly waiting = new Map<string, OutgoingEvent>();

  constructor(
    readonly socket: SocketConnection<ModuleSocketData>,
    private readonly limits: ModulePeerLimits,
    now: number,
    authenticated: boolean,
  ) {
    this.authenticated = authenticated;
    this.lastSeen = now;
    this.rate = createTokenBucket(limits.rateCapacity, limits.ratePerSecond, now);
  }

  get id(): string {
    return this.socket.data.connId;
  }

  private congested(): boolean {
    return this.socket.getBufferedAmount() > this.limits.bufferLimit;
  }

  private write(event: OutgoingEvent): void {
    const text = event.text(this.encoding);
    if (text === undefined) {
      this.stats.dropped++;
      return;
    }
    this.stats.messagesOut++;
    this.socket.send(text);
  }

  /** Sends, or drops the frame when the peer is not reading; returns false when dropped. */
  deliver(event: OutgoingEvent, coalesceKey?: string): boolean {
    if (coalesceKey !== undefined && (this.waiting.size > 0 || this.congested())) {
      this.waiting.delete(coalesceKey);
      this.waiting.set(coalesceKey, event);
      if (!this.congested()) this.drain();
      return true;
    }
    if (this.congested()) {
      this.stats.dropped++;
      return false;
    }
    this.write(event);
    return true;
  }

  /** Called when the socket's buffer has room again. */
  drain(): void {
    for (const [key, event] of this.waiting) {
      if (this.congested()) return;
      this.waiting.delete(key);
      this.write(event);
    }
  }
}
