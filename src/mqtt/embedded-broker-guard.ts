/**
 * The embedded broker's security rules (CONTRACT.md section 3) as aedes hooks: who may
 * connect, publish and subscribe, and which connected client is which device.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { AedesOptions, AuthenticateError, Client } from "aedes";
import type { Logger } from "../logging/index.ts";
import type { BrokerIdentity, ClientSessions } from "./mqtt-client-sessions.ts";
import {
  isAllowedDeviceClientId,
  isUsableDeviceId,
  mayDevicePublish,
  mayDeviceSubscribe,
} from "./mqtt-device-acl.ts";

export type { BrokerIdentity } from "./mqtt-client-sessions.ts";

export interface BrokerGuardDeps {
  logger: Logger;
  stationId: string;
  authenticateDevice(deviceId: string, password: string): Promise<boolean>;
  internalCredential: { username: string; password: string };
  /** Who owns which client id (the first login to use it). */
  sessions: Pick<ClientSessions, "claim" | "closed">;
  /** A device published a payload over the size limit (it is refused, and counted there). */
  onOversizedPublish?(deviceId: string): void;
}

export interface RefusalCounts {
  connects: number;
  publishes: number;
  subscribes: number;
}

export type BrokerHooks = Required<
  Pick<AedesOptions, "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward">
>;

export interface BrokerGuard {
  hooks: BrokerHooks;
  /** Live (authenticated, socket still open) clients of one device. */
  clientsOf(deviceId: string): Client[];
  refusals(): RefusalCounts;
}

// CONNACK return codes (MQTT 3.1.1 table 3.1). aedes declares them as a `const enum` in a
// .d.ts, which per-file transpilers (Bun) cannot inline, so they are spelled out here.
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

function digest(value: string | Buffer): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Equal-length digests make the comparison constant-time whatever the inputs' lengths. */
function secretsEqual(a: string | Buffer, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

export function createBrokerGuard(deps: BrokerGuardDeps): BrokerGuard {
  const { logger, stationId, internalCredential } = deps;
  // WeakMap, not cleared on socket close: aedes authorizes the last will after the socket is gone.
  const identities = new WeakMap<Client, BrokerIdentity>();
  const live = new Set<Client>();
  const counts: RefusalCounts = { connects: 0, publishes: 0, subscribes: 0 };

  async function identify(client: Client, username: string | undefined, password: Buffer | undefined) {
    if (!username) throw refusal(BAD_USERNAME_OR_PASSWORD, "missing username");
    if (username === internalCredential.username) {
      if (password && secretsEqual(password, internalCredential.password))
        return { kind: "station" } as const;
      throw refusal(BAD_USERNAME_OR_PASSWORD, "wrong internal credential");
    }
    if (!isUsableDeviceId(username)) throw refusal(BAD_USERNAME_OR_PASSWORD, "unusable device id");
    if (!isAllowedDeviceClientId(username, client.id)) throw refusal(NOT_AUTHORIZED, "client id not allowed");
    if (!password || password.length === 0) throw refusal(BAD_USERNAME_OR_PASSWORD, "missing password");
    let ok: boolean;
    try {
      ok = await deps.authenticateDevice(username, password.toString("utf8"));
    } catch (error) {
      logger.error("mqtt device authentication failed", { deviceId: username, error });
      throw refusal(SERVER_UNAVAILABLE, "authentication unavailable");
    }
    if (!ok) throw refusal(BAD_USERNAME_OR_PASSWORD, "wrong or revoked credential");
    return { kind: "device", deviceId: username } as const;
  }

  const authenticate: BrokerHooks["authenticate"] = (client, username, password, done) => {
    identify(client, username, password).then(
      (identity) => {
        if (!deps.sessions.claim(client.id, identity)) {
          counts.connects++;
          logger.warn("mqtt connect refused", {
            clientId: client.id,
            username,
            reason: "client id owned by another login",
          });
          return done(refusal(NOT_AUTHORIZED, "client id owned by another login"), false);
        }
        identities.set(client, identity);
        live.add(client);
        const gone = () => {
          live.delete(client);
          deps.sessions.closed(client.id);
        };
        // A connection can close while its credential is checked; aedes then drops the login.
        if (client.closed) gone();
        else client.conn.once("close", gone);
        done(null, true);
      },
      (error: AuthenticateError) => {
        counts.connects++;
        logger.warn("mqtt connect refused", { clientId: client.id, username, reason: error.message });
        done(error, false);
      },
    );
  };

  /** A device message is a small JSON object; anything larger is refused like a foreign topic. */
  const MAX_DEVICE_PAYLOAD_BYTES = 64 * 1024;

  const authorizePublish: BrokerHooks["authorizePublish"] = (client, packet, done) => {
    const identity = client ? identities.get(client) : undefined;
    if (identity?.kind === "station") {
      // Same protection as aedes' default hook (aedes issue #597): $SYS is the broker's own.
      return done(packet.topic.startsWith("$SYS/") ? new Error("$SYS topics are reserved") : null);
    }
    const tooLarge = packet.payload.length > MAX_DEVICE_PAYLOAD_BYTES;
    const ownTopic = identity !== undefined && mayDevicePublish(stationId, identity.deviceId, packet.topic);
    if (ownTopic && !tooLarge) return done(null);
    counts.publishes++;
    // On its own topic, the refusal is for the size: one of the device's messages dropped.
    if (identity && ownTopic) deps.onOversizedPublish?.(identity.deviceId);
    logger.warn("mqtt publish refused", {
      clientId: client?.id,
      deviceId: identity?.kind === "device" ? identity.deviceId : undefined,
      topic: packet.topic,
      reason: tooLarge ? `payload over ${MAX_DEVICE_PAYLOAD_BYTES} bytes` : "topic not allowed",
    });
    // A will of an unknown client (only from another broker's persistence) is simply not sent.
    if (!identity) return done(new Error("publish not authorized"));
    packet.topic = REFUSED_SINK_TOPIC;
    packet.retain = false;
    done(null);
  };

  const authorizeSubscribe: BrokerHooks["authorizeSubscribe"] = (client, subscription, done) => {
    const identity = identities.get(client);
    if (identity?.kind === "station") return done(null, subscription);
    if (identity && mayDeviceSubscribe(stationId, identity.deviceId, subscription.topic)) {
      return done(null, subscription);
    }
    counts.subscribes++;
    logger.warn("mqtt subscribe refused", { clientId: client.id, topic: subscription.topic });
    // A null subscription makes aedes answer SUBACK 0x80 instead of dropping the connection.
    done(null, null);
  };

  // Defence in depth: even a restored session or an offline queue only reaches a device
  // with messages addressed to it.
  const authorizeForward: BrokerHooks["authorizeForward"] = (client, packet) => {
    if (packet.topic === REFUSED_SINK_TOPIC) return null;
    const identity = identities.get(client);
    if (identity?.kind === "device" && !mayDeviceSubscribe(stationId, identity.deviceId, packet.topic)) {
      return null;
    }
    return packet;
  };

  return {
    hooks: { authenticate, authorizePublish, authorizeSubscribe, authorizeForward },
    clientsOf: (deviceId) =>
      [...live].filter((client) => {
        const identity = identities.get(client);
        return identity?.kind === "device" && identity.deviceId === deviceId;
      }),
    refusals: () => ({ ...counts }),
  };
}
