/**
 * Who owns each MQTT client id on the embedded broker, and how much a session may keep:
 * at most 8 stored sessions per device (and per integration login) and a bounded queue per
 * client id (issue 9, finding 4: 1,000 `<deviceId>-<random>` persistent sessions × 1,000
 * commands added 180 MiB). The sessions themselves are the broker core's
 * (mqtt-broker-core.ts); this is its SessionPolicy.
 */
import type { SessionPolicy } from "./broker-hooks.ts";

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
  onEvicted?(clientId: string, deviceId: string): void;
  limits?: Partial<ClientSessionLimits>;
}

export interface ClientSessionStats {
  storedSessions: number;
  queuedMessages: number;
  evictedSessions: number;
  droppedQueuedMessages: number;
}

export function createClientSessions(deps: ClientSessionsDeps) {
  const limits: ClientSessionLimits = {
    maxStoredSessionsPerDevice: MAX_STORED_SESSIONS_PER_DEVICE,
    maxQueuedMessagesPerClient: MAX_QUEUED_MESSAGES_PER_CLIENT,
    ...deps.limits,
  };
  // Sessions are kept by client id; the first login to use an id owns it, so a device whose
  // id is a prefix of another's (`a` vs `a-b`) cannot take over that session or its queue.
  const owners = new Map<string, BrokerIdentity>();
  const liveConnections = new Map<string, number>();
  /**
   * deviceId (or `integration:<name>`) → its stored sessions' client ids, least recently used
   * first: an integration login, which may pick any client id no device uses, is capped too.
   */
  const storedByDevice = new Map<string, Set<string>>();
  const counts = { evictedSessions: 0, droppedQueuedMessages: 0 };
  let broker: SessionStore = { dropSession: () => {}, queuedMessages: () => 0 };

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

  function forget(clientId: string) {
    const group = storeGroupOf(clientId);
    const stored = group === undefined ? undefined : storedByDevice.get(group);
    stored?.delete(clientId);
    if (stored?.size === 0) storedByDevice.delete(group!);
    releaseIfUnused(clientId);
  }

  const policy: SessionPolicy = {
    maxQueuedMessages: limits.maxQueuedMessagesPerClient,
    /** Marks a session as stored and most recently used; past the cap the oldest goes. */
    remember(clientId) {
      const group = storeGroupOf(clientId);
      if (group === undefined) return;
      const stored = storedByDevice.get(group) ?? new Set<string>();
      storedByDevice.set(group, stored);
      stored.delete(clientId);
      stored.add(clientId);
      while (stored.size > limits.maxStoredSessionsPerDevice) {
        const oldest = stored.values().next().value as string;
        stored.delete(oldest);
        counts.evictedSessions++;
        broker.dropSession(oldest);
        releaseIfUnused(oldest);
        deps.onEvicted?.(oldest, group);
      }
    },
    forget,
    droppedQueued() {
      counts.droppedQueuedMessages++;
    },
  };

  return {
    /** What the broker core is given as its SessionPolicy. */
    policy,
    /** The broker core whose sessions these are (set once it exists). */
    attach(store: SessionStore) {
      broker = store;
    },
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
        broker.dropSession(clientId);
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
      return { storedSessions, queuedMessages: broker.queuedMessages(), ...counts };
    },
  };
}

/** What the policy needs of the broker core. */
export interface SessionStore {
  dropSession(clientId: string): void;
  queuedMessages(): number;
}

export type ClientSessions = ReturnType<typeof createClientSessions>;
