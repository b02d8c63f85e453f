/**
 * The broker's open connections, and one sweep over them instead of a timer each: keep-alive
 * (1.5 × the client's interval, MQTT-3.1.2-24) and a CONNECT that never came. Wall-clock time,
 * not the station's injected clock: a client's keep-alive is real seconds on its socket, and a
 * test that moves the station's clock an hour ahead must not disconnect every device (aedes used
 * timers too). It runs only while connections are open: an idle station is not woken.
 */
import type { Logger } from "../logging/index.ts";
import type { Connection } from "./broker-connection.ts";

const SWEEP_EVERY_MS = 1000;

export function createConnectionSweep(options: {
  now: () => number;
  connectTimeoutMs: number;
  logger: Logger;
}) {
  const { now, connectTimeoutMs, logger } = options;
  const connections = new Set<Connection>();
  let timer: ReturnType<typeof setInterval> | undefined;

  function sweep() {
    const t = now();
    for (const connection of connections) {
      if (connection.state === "new" && t - connection.openedAt > connectTimeoutMs) connection.shutdown();
      else if (connection.keepaliveMs > 0 && t - connection.lastActivity > connection.keepaliveMs) {
        logger.debug("mqtt keep-alive timeout", { clientId: connection.id });
        connection.shutdown();
      }
    }
  }

  function runWhileOpen() {
    if (connections.size > 0 && !timer) {
      timer = setInterval(sweep, SWEEP_EVERY_MS);
      (timer as { unref?: () => void }).unref?.();
    } else if (connections.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    /** The open connections (a copy, to close them all). */
    all: () => [...connections],
    add(connection: Connection) {
      connections.add(connection);
      runWhileOpen();
    },
    remove(connection: Connection) {
      connections.delete(connection);
      runWhileOpen();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
