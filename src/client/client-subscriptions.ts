/**
 * The client's side of `subscribe`: stable handles that outlive a connection. The station
 * hands out a new subscriptionId on every socket, so each handle remembers what it asked for
 * and is re-subscribed after a reconnect; pushes are routed by the current server id.
 */
import type { Channel, PushFrame as Push, SubscriptionFilter } from "../protocol/index.ts";

/** A push as the handler sees it: `subscriptionId` is the stable client handle id. */
export type PushHandler = (push: Push) => void;

export interface SubscriptionEntry {
  readonly id: string;
  readonly channel: Channel;
  readonly filter: SubscriptionFilter | undefined;
  readonly onPush: PushHandler;
  serverId: string | undefined;
}

/** Pushes for a server id not bound yet: a replay can overtake the subscribe result. */
const EARLY_LIMIT = 256;

export function createClientSubscriptions() {
  const entries = new Map<string, SubscriptionEntry>();
  const byServerId = new Map<string, SubscriptionEntry>();
  const early: Push[] = [];
  let counter = 0;

  function deliver(entry: SubscriptionEntry, push: Push) {
    entry.onPush({ ...push, subscriptionId: entry.id });
  }

  return {
    add(channel: Channel, filter: SubscriptionFilter | undefined, onPush: PushHandler): SubscriptionEntry {
      const entry: SubscriptionEntry = {
        id: `sub-${++counter}`,
        channel,
        filter,
        onPush,
        serverId: undefined,
      };
      entries.set(entry.id, entry);
      return entry;
    },
    /** Binds a handle to the id the current socket gave it and hands on any early pushes. */
    bind(entry: SubscriptionEntry, serverId: string) {
      if (!entries.has(entry.id)) return;
      entry.serverId = serverId;
      byServerId.set(serverId, entry);
      for (let i = 0; i < early.length; ) {
        const push = early[i]!;
        if (push.subscriptionId === serverId) {
          early.splice(i, 1);
          deliver(entry, push);
        } else i++;
      }
    },
    remove(entry: SubscriptionEntry) {
      entries.delete(entry.id);
      if (entry.serverId) byServerId.delete(entry.serverId);
    },
    route(push: Push) {
      const entry = byServerId.get(push.subscriptionId);
      if (entry) return deliver(entry, push);
      early.push(push);
      if (early.length > EARLY_LIMIT) early.shift();
    },
    /** The socket is gone: every server id it gave out is void. */
    unbindAll() {
      byServerId.clear();
      early.length = 0;
      for (const entry of entries.values()) entry.serverId = undefined;
    },
    active: () => [...entries.values()],
    has: (entry: SubscriptionEntry) => entries.has(entry.id),
  };
}

export type ClientSubscriptions = ReturnType<typeof createClientSubscriptions>;
