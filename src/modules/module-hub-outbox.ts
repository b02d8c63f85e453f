import { randomUUID } from "node:crypto";
import type { ModuleIdentity, ModuleServerEventData, ModuleServerEventType } from "../protocol/index.ts";
import { OutgoingEvent } from "./module-codec.ts";
import type { ModuleHubCounters } from "./module-hub-limits.ts";
import type { ModulePeer } from "./module-peer.ts";

export interface ModuleHubOutboxDeps {
  /** The station's identity, the `source` of every event the hub itself sends. */
  source: ModuleIdentity;
  counters: ModuleHubCounters;
}

/** Events the hub sends in its own name, and delivery to a peer that counts what congestion drops. */
export function createModuleHubOutbox({ source, counters }: ModuleHubOutboxDeps) {
  function serverEvent<T extends ModuleServerEventType>(
    type: T,
    data: ModuleServerEventData<T>,
    parentId?: string,
  ): OutgoingEvent {
    const metadata = {
      source,
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

  return { serverEvent, send, sendError };
}

export type ModuleHubOutbox = ReturnType<typeof createModuleHubOutbox>;
