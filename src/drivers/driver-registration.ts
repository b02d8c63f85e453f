import type { Clock } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import { DRIVER_CLOSE_REPLACED, DRIVER_CLOSE_REVOKED } from "../protocol/index.ts";
import type { DriverLimits } from "./driver-limits.ts";
import type { DriverOutbox } from "./driver-outbox.ts";
import { type DriverConnection, type DriverHub, type DriverSession, sessionKey } from "./driver-session.ts";

export interface DriverRegistrationDeps {
  hub: DriverHub;
  clock: Clock;
  logger: Logger;
  limits: DriverLimits;
  /** Open connections by connId: a session sends only while its socket is here. */
  connections: ReadonlyMap<string, DriverConnection>;
  /** Registered sessions by `driverKey/instanceId`. */
  sessions: Map<string, DriverConnection>;
  outbox: DriverOutbox;
}

/**
 * `driver.register`: checks the token's driverKey and the instance limit, and registers the
 * session; a newer one with the same driverKey and instanceId replaces the older with 4001.
 */
export function createDriverRegistration(deps: DriverRegistrationDeps) {
  const { hub, clock, logger, limits, connections, sessions } = deps;
  const { send, refuse } = deps.outbox;

  function register(
    conn: DriverConnection,
    params: { driverKey: string; instanceId: string; name?: string },
  ) {
    const { driverKey, instanceId } = params;
    const current = conn.session;
    if (current) {
      if (current.driverKey === driverKey && current.instanceId === instanceId) {
        send(conn, { event: "REGISTERED", ok: true, driverKey, instanceId });
        return;
      }
      return refuse(conn, {
        reason: "invalid",
        error: "This connection is already registered.",
        details: [
          `It is ${current.driverKey} ${current.instanceId}; open another connection for another driver.`,
        ],
      });
    }
    const allowed = conn.socket.data.tokenDriverKey;
    if (allowed !== undefined && allowed !== driverKey) {
      refuse(conn, {
        reason: "forbidden",
        code: "DRIVER_WS_FORBIDDEN",
        error: `This token is not for driverKey ${driverKey}.`,
        details: [`Create one with: opengenie driver token ${driverKey}`],
      });
      conn.socket.close(DRIVER_CLOSE_REVOKED, "token not valid for this driverKey");
      return;
    }
    const key = sessionKey(driverKey, instanceId);
    const previous = sessions.get(key);
    const instances = [...sessions.values()].filter((c) => c.session?.driverKey === driverKey).length;
    if (!previous && instances >= limits.instancesPerDriver) {
      return refuse(conn, {
        reason: "limit",
        error: "Too many instances.",
        details: [`At most ${limits.instancesPerDriver} instances of one driverKey may be connected.`],
      });
    }
    clock.clearTimeout(conn.registerTimer);
    const session: DriverSession = {
      connId: conn.socket.data.connId,
      driverKey,
      instanceId,
      ...(params.name ? { name: params.name } : {}),
      remoteAddress: conn.socket.remoteAddress,
      connectedAt: conn.socket.data.connectedAt,
      trustedLoopback: allowed === undefined,
      send: (frame) => connections.has(conn.socket.data.connId) && send(conn, frame),
    };
    conn.session = session;
    sessions.set(key, conn);
    send(conn, { event: "REGISTERED", ok: true, driverKey, instanceId });
    // The newest session wins, as a restarted driver reconnects before the old socket times out.
    previous?.socket.close(DRIVER_CLOSE_REPLACED, "replaced by a newer session");
    logger.info("driver registered", { driverKey, instanceId, remoteAddress: session.remoteAddress });
    return hub.registered(session);
  }

  return { register };
}
