import type { Principal } from "../auth/index.ts";
import { createTokenBucket, type TokenBucket } from "../core/index.ts";
import type { SocketConnection } from "../platform/index.ts";
import type { Channel, SubscriptionFilter } from "../protocol/index.ts";
import { systemFrame } from "./frames.ts";

export type { Channel };

export interface Subscription {
  id: string;
  channel: Channel;
  filter: SubscriptionFilter;
}

export interface AppSocketData {
  kind: "app";
  connId: string;
  principal: Principal;
  connectedAt: number;
}

export interface ConnectionLimits {
  /** Above this many buffered bytes, pushes are coalesced or dropped instead of queued. */
  bufferLimit: number;
  rateCapacity: number;
  ratePerSecond: number;
  /** Open sockets one user may hold (CONTRACT.md section 2: 64). */
  socketsPerUser: number;
  /** The budget all of one user's sockets share, so many sockets do not multiply it. */
  userRateCapacity: number;
  userRatePerSecond: number;
}

/**
 * One app socket: its subscriptions, counters and the backpressure rule. A slow reader never
 * grows memory without bound: state pushes coalesce to the latest per device, other pushes
 * past the buffer limit are dropped and counted, and the count is reported on drain.
 */
export class AppConnection {
  readonly subscriptions = new Map<string, Subscription>();
  readonly stats = { messagesIn: 0, messagesOut: 0, dropped: 0 };
  awaitingPong = false;
  readonly rate: TokenBucket;
  private readonly pendingState = new Map<string, string>();
  private readonly afterReplyQueue: (() => void)[] = [];
  private droppedUnreported = 0;

  constructor(
    readonly socket: SocketConnection<AppSocketData>,
    private readonly limits: ConnectionLimits,
    now: number,
  ) {
    this.rate = createTokenBucket(limits.rateCapacity, limits.ratePerSecond, now);
  }

  get id(): string {
    return this.socket.data.connId;
  }
  get principal(): Principal {
    return this.socket.data.principal;
  }

  /** Replies and notices always go out: they answer what the client asked for. */
  send(frame: string): void {
    this.stats.messagesOut++;
    this.socket.send(frame);
  }

  /** Runs `fn` right after the reply to the request being handled has been sent. */
  afterReply(fn: () => void): void {
    this.afterReplyQueue.push(fn);
  }

  /** Called by the dispatcher once it has sent a reply. */
  replied(): void {
    for (const fn of this.afterReplyQueue.splice(0)) fn();
  }

  private congested(): boolean {
    return this.socket.getBufferedAmount() > this.limits.bufferLimit;
  }

  /** A push; `coalesceKey` marks a state push that may replace an older one still waiting. */
  push(frame: string, coalesceKey?: string): void {
    if (coalesceKey !== undefined && (this.pendingState.size > 0 || this.congested())) {
      this.pendingState.delete(coalesceKey);
      this.pendingState.set(coalesceKey, frame);
      if (!this.congested()) this.drain();
      return;
    }
    if (this.congested()) {
      this.stats.dropped++;
      this.droppedUnreported++;
      return;
    }
    this.send(frame);
  }

  /** Called when the socket's buffer has room again. */
  drain(): void {
    if (this.droppedUnreported > 0 && !this.congested()) {
      this.send(systemFrame({ type: "system", event: "dropped", count: this.droppedUnreported }));
      this.droppedUnreported = 0;
    }
    for (const [key, frame] of this.pendingState) {
      if (this.congested()) return;
      this.pendingState.delete(key);
      this.send(frame);
    }
  }

  get pendingCount(): number {
    return this.pendingState.size;
  }
}
