/**
 * Who owns each MQTT client id on the embedded broker, and how much a session may keep:
 * at most 8 stored sessions per device (and per integration login) and a bounded queue per client id (issue 9, finding 4:
 * 1,000 `<deviceId>-<random>` persistent sessions × 1,000 commands added 180 MiB).
 *
 * aedes keeps sessions in its persistence; `persistence` here wraps aedes' own in-memory one,
 * keeps the offline queues itself (so they can be capped and dropped whole) and hands every
 * other call through.
 */
import { Readable } from "node:stream";
import type { AedesPublishPacket, Client, Subscription } from "aedes";
import aedesMemoryPersistence from "aedes-persistence";
import { createRetainedStore } from "./retained-store.ts";

/** Who logged in: the station's own credential, a device, or an integration (Home Assistant). */
export type BrokerIdentity =
  | { kind: "station" }
  | { kind: "device"; deviceId: string }
  | { kind: "integration"; name: string };

export const MAX_STORED_SESSIONS_PER_DEVICE = 8;
/** Per client id: QoS 1 commands waiting for an offline device, or unacknowledged. */
export const MAX_QUEUED_MESSAGES_PER_CLIENT = 100;

export interface ClientSessionLimits {
  maxStoredSessionsPerDevice: number;
  maxQueuedMessagesPerClient: number;
}

export interface ClientSessionsDeps {
  /** A device's stored session keeps only the subscriptions the device may hold. */
  mayDeviceSubscribe(deviceId: string, topicFilter: string): boolean;
  onEvicted?(clientId: string, deviceId: string): void;
  limits?: Partial<ClientSessionLimits>;
}

export interface ClientSessionStats {
  storedSessions: number;
  queuedMessages: number;
  evictedSessions: number;
  droppedQueuedMessages: number;
}

type Packet = AedesPublishPacket & { brokerId?: string; brokerCounter?: number; messageId?: number };
type ClientRef = Pick<Client, "id"> & { clean?: boolean };

/** The promise API aedes 1.x calls on its persistence (it passes no callbacks). */
interface Persistence {
  setup(broker: unknown): Promise<void>;
  addSubscriptions(client: ClientRef, subs: Subscription[]): Promise<void>;
  subscriptionsByClient(client: ClientRef): Promise<Subscription[]>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  incomingStorePacket(client: ClientRef, packet: Packet): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  [method: string]: unknown;
}

/** A copy per client id, as aedes-persistence does: each delivery sets its own messageId. */
function queuedCopy(packet: Packet): Packet {
  return { ...packet, messageId: undefined };
}

export function createClientSessions(deps: ClientSessionsDeps) {
  const limits: ClientSessionLimits = {
    maxStoredSessionsPerDevice: MAX_STORED_SESSIONS_PER_DEVICE,
    maxQueuedMessagesPerClient: MAX_QUEUED_MESSAGES_PER_CLIENT,
    ...deps.limits,
  };
  // The persistence's types are the callback form; aedes 1.x uses the promise form it also has.
  const inner = aedesMemoryPersistence() as unknown as Persistence;
  // aedes keeps sessions by client id; the first login to use an id owns it, so a device whose
  // id is a prefix of another's (`a` vs `a-b`) cannot take over that session or its queue.
  const owners = new Map<string, BrokerIdentity>();
  const liveConnections = new Map<string, number>();
  /**
   * deviceId (or `integration:<name>`) → its stored sessions' client ids, least recently used
   * first: an integration login, which may pick any client id no device uses, is capped too.
   */
  const storedByDevice = new Map<string, Set<string>>();
  const outgoing = new Map<string, Packet[]>();
  const counts = { evictedSessions: 0, droppedQueuedMessages: 0 };

  const deviceOf = (clientId: string) => {
    const owner = owners.get(clientId);
    return owner?.kind === "device" ? owner.deviceId : undefined;
  };
  /** Whose stored sessions a client id counts toward: its device's, or its integration login's. */
  const storeGroupOf = (clientId: string) => {
    const owner = owners.get(clientId);
    if (owner?.kind === "device") return owner.deviceId;
    return owner?.kind === "integration" ? `integration:${owner.name}` : undefined;
  };
  const isStored = (clientId: string) => {
    const group = storeGroupOf(clientId);
    return group !== undefined && (storedByDevice.get(group)?.has(clientId) ?? false);
  };

  /** Forgets who owned an id once nothing is left to take over: no connection, no stored session. */
  function releaseIfUnused(clientId: string) {
    if (!liveConnections.has(clientId) && !isStored(clientId)) owners.delete(clientId);
  }

  async function drop(clientId: string) {
    outgoing.delete(clientId);
    await inner.cleanSubscriptions({ id: clientId });
    await inner.cleanIncoming({ id: clientId });
  }

  /** Marks a device's session as stored and most recently used; past the cap the oldest goes. */
  function remember(clientId: string) {
    const deviceId = storeGroupOf(clientId);
    if (deviceId === undefined) return;
    const stored = storedByDevice.get(deviceId) ?? new Set<string>();
    storedByDevice.set(deviceId, stored);
    stored.delete(clientId);
    stored.add(clientId);
    while (stored.size > limits.maxStoredSessionsPerDevice) {
      const oldest = stored.values().next().value as string;
      stored.delete(oldest);
      counts.evictedSessions++;
      // The in-memory persistence never rejects; nothing to report if it ever did.
      drop(oldest).catch(() => {});
      releaseIfUnused(oldest);
      deps.onEvicted?.(oldest, deviceId);
    }
  }

  function forget(clientId: string) {
    const deviceId = storeGroupOf(clientId);
    const stored = deviceId === undefined ? undefined : storedByDevice.get(deviceId);
    stored?.delete(clientId);
    if (stored?.size === 0) storedByDevice.delete(deviceId!);
    outgoing.delete(clientId);
  }

  function enqueue(clientId: string, packet: Packet) {
    const queue = outgoing.get(clientId) ?? [];
    outgoing.set(clientId, queue);
    queue.push(queuedCopy(packet));
    if (queue.length > limits.maxQueuedMessagesPerClient) {
      queue.shift();
      counts.droppedQueuedMessages++;
    }
  }

  // Same semantics as aedes-persistence's in-memory queue, except that a packet the cap
  // dropped is not an error: it is still written to a connected client, just not kept.
  const queueMethods = {
    async outgoingEnqueue(sub: { clientId: string }, packet: Packet) {
      enqueue(sub.clientId, packet);
    },
    async outgoingEnqueueCombi(subs: { clientId: string }[], packet: Packet) {
      for (const sub of subs) enqueue(sub.clientId, packet);
    },
    async outgoingUpdate(client: ClientRef, packet: Packet) {
      const queue = outgoing.get(client.id) ?? [];
      for (let i = 0; i < queue.length; i++) {
        const queued = queue[i]!;
        if (queued.brokerId === packet.brokerId) {
          if (queued.brokerCounter === packet.brokerCounter) {
            queued.messageId = packet.messageId;
            return;
          }
        } else if (queued.messageId === packet.messageId) {
          queue[i] = packet;
          return;
        }
      }
    },
    async outgoingClearMessageId(client: ClientRef, packet: Packet) {
      const queue = outgoing.get(client.id) ?? [];
      const i = queue.findIndex((queued) => queued.messageId === packet.messageId);
      if (i < 0) return undefined;
      const [cleared] = queue.splice(i, 1);
      if (queue.length === 0) outgoing.delete(client.id);
      return cleared;
    },
    outgoingStream(client: ClientRef) {
      return Readable.from([...(outgoing.get(client.id) ?? [])]);
    },
  };

  const sessionMethods = {
    async setup(broker: unknown) {
      await inner.setup(broker);
    },
    async addSubscriptions(client: ClientRef, subs: Subscription[]) {
      const deviceId = deviceOf(client.id);
      // aedes stores the whole SUBSCRIBE, refused filters (`#`) included; a device's session
      // would then queue every message on the broker without ever being allowed to receive it.
      const kept =
        deviceId === undefined ? subs : subs.filter((s) => deps.mayDeviceSubscribe(deviceId, s.topic));
      if (kept.length === 0) return;
      remember(client.id);
      await inner.addSubscriptions(client, kept);
    },
    async subscriptionsByClient(client: ClientRef) {
      if (isStored(client.id)) remember(client.id);
      return inner.subscriptionsByClient(client);
    },
    async cleanSubscriptions(client: ClientRef) {
      forget(client.id);
      await inner.cleanSubscriptions(client);
    },
    async incomingStorePacket(client: ClientRef, packet: Packet) {
      // A QoS 2 message held for PUBREL outlives a persistent session's connection.
      if (client.clean === false) remember(client.id);
      await inner.incomingStorePacket(client, packet);
    },
  };

  const retained = createRetainedStore();
  const retainedMethods = {
    storeRetained: retained.storeRetained,
    createRetainedStreamCombi: retained.createRetainedStreamCombi,
    createRetainedStream: retained.createRetainedStream,
  };
  const overrides: Record<string, unknown> = { ...queueMethods, ...sessionMethods, ...retainedMethods };
  // aedes checks that `setup` is an async function by its constructor's name.
  const persistence = new Proxy(inner, {
    get(target, property, receiver) {
      if (typeof property === "string" && Object.hasOwn(overrides, property)) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });

  return {
    /** What aedes is given as its `persistence`. */
    persistence,
    /** Records who logged in with a client id; false when another login owns it. */
    claim(clientId: string, identity: BrokerIdentity): boolean {
      const owner = owners.get(clientId);
      const same = owner === undefined || JSON.stringify(owner) === JSON.stringify(identity);
      if (!same) return false;
      owners.set(clientId, identity);
      liveConnections.set(clientId, (liveConnections.get(clientId) ?? 0) + 1);
      return true;
    },
    /** A deleted device's stored sessions and queued commands go with it. */
    dropDevice(deviceId: string) {
      const stored = storedByDevice.get(deviceId);
      storedByDevice.delete(deviceId);
      for (const clientId of stored ?? []) {
        drop(clientId).catch(() => {});
        releaseIfUnused(clientId);
      }
    },
    /** A claimed connection closed. */
    closed(clientId: string) {
      const left = (liveConnections.get(clientId) ?? 1) - 1;
      if (left > 0) liveConnections.set(clientId, left);
      else liveConnections.delete(clientId);
      releaseIfUnused(clientId);
    },
    stats(): ClientSessionStats {
      let storedSessions = 0;
      for (const stored of storedByDevice.values()) storedSessions += stored.size;
      let queuedMessages = 0;
      for (const queue of outgoing.values()) queuedMessages += queue.length;
      return { storedSessions, queuedMessages, ...counts };
    },
  };
}

export type ClientSessions = ReturnType<typeof createClientSessions>;
