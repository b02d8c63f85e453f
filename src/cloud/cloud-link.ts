import { readFileSync } from "node:fs";
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { OutboundSocket, Platform } from "../platform/index.ts";
import { cloudHandshakeReplySchema } from "../protocol/index.ts";
import { cloudReconnectDelay } from "./cloud-backoff.ts";
import { createJsonRpcPeer, JsonRpcError, type JsonRpcPeer, type PlainMessage } from "./json-rpc-peer.ts";

export const PING_INTERVAL_MS = 30_000;
/**
 * Where the runtime's client cannot send ping frames (Deno), the station calls this method on
 * the cloud instead: JSON-RPC 2.0 runs both ways and a server must answer every request, so any
 * answer, result or error (-32601 from a relay that does not know the method), proves the relay
 * alive; none by the next tick ends the connection as a missing pong does.
 */
export const LIVENESS_METHOD = "station.ping";
/** Larger messages are dropped unread: a cloud cannot make the station parse megabytes. */
export const MAX_CLOUD_MESSAGE_CHARS = 1_048_576;

/** Where the station token lives (`cloud_config`); the token itself is never logged. */
export interface StationTokenStore {
  read(): Promise<string | undefined>;
  store(token: string): Promise<void>;
}

export interface CloudLinkDeps {
  url: string;
  /** A PEM file of the CA that signed the cloud's certificate (OPENGENIE_CLOUD_CA). */
  caFile?: string;
  claimSecret?: string;
  chipId(): string | undefined;
  tokens: StationTokenStore;
  connect: Platform["connectWebSocket"];
  clock: Clock;
  logger: Logger;
  random?: () => number;
  pingIntervalMs?: number;
  /** Once per authenticated connection: register methods on its peer. */
  onAuthenticated(peer: JsonRpcPeer): void;
  onPlainMessage(message: PlainMessage): void;
  onServed?(method: string, outcome: "ok" | "error"): void;
}

export interface CloudLinkStatus {
  connected: boolean;
  lastError?: string;
  lastConnectedAt?: number;
}

/**
 * The outbound link to the cloud relay (CONTRACT.md section 7): claim once, then `station_auth`
 * first on every connection, then JSON-RPC both ways. Any failure (refused token included) is
 * recorded in the status and retried after a capped, jittered backoff, forever, so a revoked
 * token costs the cloud one attempt a minute. A dead connection is found by a missing pong (or,
 * without ping frames, a missing answer to `station.ping`).
 */
export function createCloudLink(deps: CloudLinkDeps) {
  const { clock, logger } = deps;
  const pingEvery = deps.pingIntervalMs ?? PING_INTERVAL_MS;
  const status: CloudLinkStatus = { connected: false };
  let attempt = 0;
  let reconnects = 0;
  let badMessages = 0;
  let running = false;
  let socket: OutboundSocket | undefined;
  let peer: JsonRpcPeer | undefined;
  let retryTimer: TimerHandle | undefined;
  let pingTimer: TimerHandle | undefined;

  function fail(message: string) {
    status.lastError = message;
    logger.warn("cloud link", { error: message });
  }

  function scheduleRetry() {
    if (!running) return;
    const delay = cloudReconnectDelay(attempt++, deps.random);
    reconnects++;
    logger.info("cloud link reconnecting", { inMs: delay });
    retryTimer = clock.setTimeout(() => void connect(), delay);
  }

  async function connect() {
    retryTimer = undefined;
    if (!running) return;
    let token: string | undefined;
    let ca: string | undefined;
    try {
      token = await deps.tokens.read();
      if (deps.caFile) ca = readFileSync(deps.caFile, "utf8");
    } catch (err) {
      fail(`cannot read ${deps.caFile ?? "the station token"}: ${(err as Error).message}`);
      return scheduleRetry();
    }
    const chipId = deps.chipId();
    if (!token && (!deps.claimSecret || !chipId)) {
      // Nothing to say to the cloud until a person sets the claim secret: no retries.
      return fail(
        !deps.claimSecret
          ? "not claimed: set OPENGENIE_CLOUD_CLAIM_SECRET to claim this station"
          : "not claimed: no chip id (/proc/device-tree/serial-number or /etc/machine-id)",
      );
    }
    if (!running) return;
    try {
      open(token, chipId, ca);
    } catch (err) {
      // The client refused to dial (Bun: a URL it cannot use, e.g. port 99999): say so, keep trying.
      fail(`cannot connect to ${deps.url}: ${(err as Error).message}`);
      scheduleRetry();
    }
  }

  let endCurrent: ((reason: string) => void) | undefined;

  function open(storedToken: string | undefined, chipId: string | undefined, ca: string | undefined) {
    let opened = false;
    let ended = false;
    let authenticated = false;
    let awaitingPong = false;
    /** Why this connection is being ended by us, for the status once it has closed. */
    let ending: string | undefined;
    let connPeer: JsonRpcPeer | undefined;
    const send = (message: object) => s.send(JSON.stringify(message));
    const auth = (stationToken: string) => send({ type: "station_auth", stationToken });

    async function handshake(text: string) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const reply = cloudHandshakeReplySchema.safeParse(json);
      if (!reply.success) {
        badMessages++;
        return logger.warn("cloud link: ignoring an unexpected message before auth_ok");
      }
      const message = reply.data;
      if (message.type === "claim_success") {
        await deps.tokens.store(message.stationToken);
        logger.info("cloud link: station claimed; token stored");
        return auth(message.stationToken);
      }
      if (message.type === "auth_error") {
        ending = `the cloud refused the station: ${message.message}`;
        return s.close(4001, "auth_error");
      }
      authenticated = true;
      attempt = 0;
      status.connected = true;
      status.lastConnectedAt = clock.now();
      status.lastError = undefined;
      logger.info("cloud link connected");
      connPeer = createJsonRpcPeer({
        send: (t) => s.send(t),
        clock,
        onPlainMessage: deps.onPlainMessage,
        onBadMessage: (reason) => {
          badMessages++;
          logger.warn("cloud link: bad message", { reason });
        },
        onServed: deps.onServed,
      });
      peer = connPeer;
      deps.onAuthenticated(connPeer);
    }

    const s: OutboundSocket = deps.connect(
      deps.url,
      { ca },
      {
        open() {
          opened = true;
          if (storedToken) auth(storedToken);
          else send({ type: "claim_handshake", chipId, claimSecret: deps.claimSecret });
        },
        message(text) {
          if (text.length > MAX_CLOUD_MESSAGE_CHARS) {
            badMessages++;
            return logger.warn("cloud link: dropped an oversized message", { chars: text.length });
          }
          if (!authenticated) {
            handshake(text).catch((err) => {
              ending = `handshake failed: ${(err as Error).message}`;
              s.close(1011, "handshake failed");
            });
          } else connPeer?.handleText(text);
        },
        pong() {
          awaitingPong = false;
        },
        close(code, reason) {
          ended = true;
          clock.clearInterval(pingTimer);
          pingTimer = undefined;
          connPeer?.close("the cloud connection was lost");
          if (peer === connPeer) peer = undefined;
          if (socket === s) socket = undefined;
          // Our own stop is no error worth a status line.
          if (running) fail(ending ?? `connection closed (${code}${reason ? ` ${reason}` : ""})`);
          status.connected = false;
          scheduleRetry();
        },
      },
    );
    if (ended) return; // closed before connect() returned: nothing to watch
    socket = s;
    endCurrent = (reason) => {
      ending = reason;
      s.close(1013, "try again later");
    };
    // Armed now, not on open: a relay that accepts the TCP connection but never completes the
    // upgrade (or a black-holed address) is given up on after one interval, and retried.
    pingTimer = clock.setInterval(() => {
      // No pong since the last ping (or not open and authenticated by now): the connection is dead.
      if (awaitingPong || !authenticated) {
        ending = authenticated
          ? s.ping
            ? "no pong from the cloud"
            : `no answer to ${LIVENESS_METHOD} from the cloud`
          : opened
            ? "no answer to station_auth"
            : "the cloud did not accept the connection in time";
        return s.close(4000, "no pong");
      }
      awaitingPong = true;
      if (s.ping) return s.ping();
      // A client without ping frames (Deno): a JSON-RPC request, whose answer is the pong.
      connPeer?.call(LIVENESS_METHOD, undefined, { timeoutMs: pingEvery }).then(
        () => {
          awaitingPong = false;
        },
        (err) => {
          // An error the cloud answered with is an answer; a timeout or a lost link is not.
          if (err instanceof JsonRpcError) awaitingPong = false;
        },
      );
    }, pingEvery);
  }

  return {
    start() {
      running = true;
      void connect();
    },
    stop() {
      running = false;
      clock.clearTimeout(retryTimer);
      clock.clearInterval(pingTimer);
      socket?.close(1001, "station stopping");
      socket = undefined;
      peer?.close("the station is stopping");
      peer = undefined;
      status.connected = false;
    },
    status(): CloudLinkStatus {
      return { ...status };
    },
    /** The authenticated connection's peer, if there is one now. */
    get peer(): JsonRpcPeer | undefined {
      return peer;
    },
    get bufferedAmount(): number {
      return socket?.bufferedAmount ?? 0;
    },
    counters: () => ({ reconnects, badMessages }),
    /** Ends the current connection (it is retried on the backoff), e.g. when the station is overloaded. */
    reconnect(reason: string) {
      if (socket) endCurrent?.(reason);
    },
  };
}

export type CloudLink = ReturnType<typeof createCloudLink>;
