/**
 * The embedded broker's security rules (CONTRACT.md section 3) as the broker core's hooks: who
 * may connect, publish and subscribe, and which connected client is which device. Every login
 * is a device's or an integration's: the station itself talks to the broker in-process
 * (in-process-client.ts).
 */
import type { Logger } from "../logging/index.ts";
import type { BrokerClient, BrokerHooks, ConnectRefusal } from "./broker-hooks.ts";
import type { ClientSessions } from "./mqtt-client-sessions.ts";
import {
  isAllowedDeviceClientId,
  isUsableDeviceId,
  mayDevicePublish,
  mayDeviceSubscribe,
} from "./mqtt-device-acl.ts";
import {
  INTEGRATION_USERNAME_PREFIX,
  type IntegrationScope,
  mayIntegrationPublish,
  mayIntegrationSubscribe,
} from "./mqtt-integration-acl.ts";

export type { BrokerIdentity } from "./mqtt-client-sessions.ts";

export interface BrokerGuardDeps {
  logger: Logger;
  stationId: string;
  authenticateDevice(deviceId: string, password: string): Promise<boolean>;
  /** Who owns which client id (the first login to use it). */
  sessions: Pick<ClientSessions, "claim" | "closed">;
  /** A device published a payload over the size limit (it is refused, and counted there). */
  onOversizedPublish?(deviceId: string): void;
  /** Integration logins (`integration-<name>`); without it every such login is refused. */
  integrations?: {
    scope: IntegrationScope;
    authenticate(username: string, password: string): Promise<boolean>;
    /** A client id some device may use: an integration may not take it. */
    isDeviceClientId(clientId: string): boolean;
  };
}

export type RefusalKind = "connect" | "publish" | "subscribe";
/** Why, in a closed set (a metric label): the log line says it in words. */
export type RefusalReason = "bad_credentials" | "client_id" | "auth_unavailable" | "topic" | "too_large";

export interface RefusalCount {
  kind: RefusalKind;
  reason: RefusalReason;
  count: number;
}

export interface BrokerGuard {
  hooks: BrokerHooks;
  /** Live (authenticated, socket still open) clients of one device. */
  clientsOf(deviceId: string): BrokerClient[];
  /** Refusals since the broker started, per kind and reason (only those that happened). */
  refusals(): RefusalCount[];
}

// CONNACK return codes (MQTT 3.1.1 table 3.1).
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/**
 * A refused device publish is re-pointed here and never forwarded: MQTT-3.3.5-2 allows
 * acknowledging without delivering, which (like Mosquitto) avoids a kick/reconnect/resend
 * loop for a device whose QoS 1 message would otherwise be retried after every reconnect.
 * `$` topics are never matched by `#`/`+` filters [MQTT-4.7.2-1].
 */
const REFUSED_SINK_TOPIC = "$opengenie/refused";

type Refusal = ConnectRefusal & { reason: RefusalReason };

function refusal(returnCode: number, reason: RefusalReason, message: string): Refusal {
  return Object.assign(new Error(message), { returnCode, reason });
}

export function createBrokerGuard(deps: BrokerGuardDeps): BrokerGuard {
  const { logger, stationId } = deps;
  // Client → deviceId. WeakMap, not cleared on socket close: the broker authorizes the last
  // will after the socket is gone. Integration logins are kept apart, in `integrationClients`.
  const identities = new WeakMap<BrokerClient, string>();
  const integrationClients = new WeakMap<BrokerClient, string>();
  const live = new Set<BrokerClient>();
  const counts = new Map<`${RefusalKind}:${RefusalReason}`, number>();
  const count = (kind: RefusalKind, reason: RefusalReason) =>
    counts.set(`${kind}:${reason}`, (counts.get(`${kind}:${reason}`) ?? 0) + 1);

  /** An integration's login: any client id no device may use; the first login to use one owns it. */
  async function identifyIntegration(client: BrokerClient, username: string, password: Buffer | undefined) {
    const integrations = deps.integrations;
    if (!integrations || !password || password.length === 0)
      throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "wrong or revoked integration credential");
    if (!client.id || integrations.isDeviceClientId(client.id))
      throw refusal(NOT_AUTHORIZED, "client_id", "client id not allowed");
    let ok: boolean;
    try {
      ok = await integrations.authenticate(username, password.toString("utf8"));
    } catch (error) {
      logger.error("mqtt integration authentication failed", { username, error });
      throw refusal(SERVER_UNAVAILABLE, "auth_unavailable", "authentication unavailable");
    }
    if (!ok)
      throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "wrong or revoked integration credential");
    if (!deps.sessions.claim(client.id, { kind: "integration", name: username }))
      throw refusal(NOT_AUTHORIZED, "client_id", "client id owned by another login");
    return username;
  }

  async function identify(client: BrokerClient, username: string | undefined, password: Buffer | undefined) {
    if (!username) throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "missing username");
    if (!isUsableDeviceId(username))
      throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "unusable device id");
    if (!isAllowedDeviceClientId(username, client.id))
      throw refusal(NOT_AUTHORIZED, "client_id", "client id not allowed");
    if (!password || password.length === 0)
      throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "missing password");
    let ok: boolean;
    try {
      ok = await deps.authenticateDevice(username, password.toString("utf8"));
    } catch (error) {
      logger.error("mqtt device authentication failed", { deviceId: username, error });
      throw refusal(SERVER_UNAVAILABLE, "auth_unavailable", "authentication unavailable");
    }
    if (!ok) throw refusal(BAD_USERNAME_OR_PASSWORD, "bad_credentials", "wrong or revoked credential");
    // Sessions are kept by client id; the first device to use an id owns it, so a device whose
    // id is a prefix of another's (`a` vs `a-b`) cannot take over that session or its queue.
    if (!deps.sessions.claim(client.id, { kind: "device", deviceId: username }))
      throw refusal(NOT_AUTHORIZED, "client_id", "client id owned by another device");
    return username;
  }

  const authenticate: BrokerHooks["authenticate"] = (client, username, password, done) => {
    const integration = username?.startsWith(INTEGRATION_USERNAME_PREFIX) ?? false;
    (integration
      ? identifyIntegration(client, username!, password)
      : identify(client, username, password)
    ).then(
      (id) => {
        if (integration) integrationClients.set(client, id);
        else identities.set(client, id);
        // A connection can close while its credential is checked; the broker then drops the login.
        if (client.closed) deps.sessions.closed(client.id);
        else live.add(client);
        done(null, true);
      },
      (error: Refusal) => {
        count("connect", error.reason);
        logger.warn("mqtt connect refused", { clientId: client.id, username, reason: error.message });
        done(error, false);
      },
    );
  };

  /** A device message is a small JSON object; anything larger is refused like a foreign topic. */
  const MAX_DEVICE_PAYLOAD_BYTES = 64 * 1024;

  const authorizePublish: BrokerHooks["authorizePublish"] = (client, packet, done) => {
    const integration = integrationClients.get(client);
    if (integration !== undefined) {
      const scope = deps.integrations!.scope;
      if (packet.payload.length <= MAX_DEVICE_PAYLOAD_BYTES && mayIntegrationPublish(scope, packet.topic)) {
        // Only `<prefix>/status` stays retained (Home Assistant's birth message): a retained
        // command under any device id would be one more stored message per id, without bound.
        if (packet.topic !== `${scope.prefix}/status`) packet.retain = false;
        return done(null);
      }
      count("publish", packet.payload.length > MAX_DEVICE_PAYLOAD_BYTES ? "too_large" : "topic");
      logger.warn("mqtt publish refused", { clientId: client.id, integration, topic: packet.topic });
      // Acknowledged and dropped, as for a device (see REFUSED_SINK_TOPIC).
      packet.topic = REFUSED_SINK_TOPIC;
      packet.retain = false;
      return done(null);
    }
    const deviceId = identities.get(client);
    const tooLarge = packet.payload.length > MAX_DEVICE_PAYLOAD_BYTES;
    const ownTopic = deviceId !== undefined && mayDevicePublish(stationId, deviceId, packet.topic);
    if (ownTopic && !tooLarge) return done(null);
    count("publish", tooLarge ? "too_large" : "topic");
    // On its own topic, the refusal is for the size: one of the device's messages dropped.
    if (deviceId && ownTopic) deps.onOversizedPublish?.(deviceId);
    logger.warn("mqtt publish refused", {
      clientId: client.id,
      deviceId,
      topic: packet.topic,
      reason: tooLarge ? `payload over ${MAX_DEVICE_PAYLOAD_BYTES} bytes` : "topic not allowed",
    });
    // A will of an unknown client (only from another broker's persistence) is simply not sent.
    if (!deviceId) return done(new Error("publish not authorized"));
    packet.topic = REFUSED_SINK_TOPIC;
    packet.retain = false;
    done(null);
  };

  const authorizeSubscribe: BrokerHooks["authorizeSubscribe"] = (client, subscription, done) => {
    const deviceId = identities.get(client);
    if (deviceId && mayDeviceSubscribe(stationId, deviceId, subscription.topic)) {
      return done(null, subscription);
    }
    const integration = integrationClients.get(client) !== undefined;
    if (integration && mayIntegrationSubscribe(deps.integrations!.scope, subscription.topic)) {
      return done(null, subscription);
    }
    count("subscribe", "topic");
    logger.warn("mqtt subscribe refused", { clientId: client.id, topic: subscription.topic });
    // A null subscription is answered SUBACK 0x80; the connection stays.
    done(null, null);
  };

  // Defence in depth: even a restored session or an offline queue only reaches a device
  // with messages addressed to it.
  const authorizeForward: BrokerHooks["authorizeForward"] = (client, packet) => {
    if (packet.topic === REFUSED_SINK_TOPIC) return null;
    const deviceId = identities.get(client);
    if (deviceId !== undefined && !mayDeviceSubscribe(stationId, deviceId, packet.topic)) return null;
    if (integrationClients.has(client) && !mayIntegrationSubscribe(deps.integrations!.scope, packet.topic))
      return null;
    return packet;
  };

  const clientClosed: BrokerHooks["clientClosed"] = (client) => {
    if (live.delete(client)) deps.sessions.closed(client.id);
  };

  return {
    hooks: { authenticate, authorizePublish, authorizeSubscribe, authorizeForward, clientClosed },
    clientsOf: (deviceId) => [...live].filter((client) => identities.get(client) === deviceId),
    refusals: () =>
      [...counts].map(([key, n]) => {
        const [kind, reason] = key.split(":") as [RefusalKind, RefusalReason];
        return { kind, reason, count: n };
      }),
  };
}
