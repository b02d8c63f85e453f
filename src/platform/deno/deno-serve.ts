/**
 * The one port on Deno: `Deno.serve` for HTTP and `Deno.upgradeWebSocket` for the sockets,
 * with the front door Bun.serve gives the station (src/platform/bun/bun-platform.ts): the
 * peer's address for the kill switch, the station's own answer (a 401) before any upgrade,
 * the subprotocol it selects, a frame-size limit closing with 1009, backpressure read from
 * `bufferedAmount` and a drain call once the buffer is empty again.
 *
 * What Deno does not offer is done here or by Deno itself (docs/deno.md "Differences"):
 * - Deno reads a whole frame (up to its own 64 MiB cap) before the size check can refuse it.
 * - Server-side ping frames are not in Deno's API. Deno pings a socket silent for
 *   IDLE_TIMEOUT_S / 2 and closes it (1001) when no pong follows within as long again; the
 *   station's own heartbeat sees every open socket answer.
 */
import type { HttpServerHandle, ServeOptions, SocketConnection, UpgradeRequest } from "../types.ts";

/** Deno pings after 10 s of silence and closes 10 s later without a pong (CONTRACT 4: 10 s). */
export const IDLE_TIMEOUT_S = 20;
/** How often a congested socket's buffer is looked at until it is empty (Deno has no drain event). */
const DRAIN_POLL_MS = 10;
const CLOSE_TOO_BIG = 1009;
const OPEN = 1;

const encoder = new TextEncoder();

/** The UTF-8 size of a frame, counted only where the character count cannot decide. */
function frameBytes(message: string | ArrayBuffer, limit: number): number {
  if (typeof message !== "string") return message.byteLength;
  if (message.length > limit || message.length * 3 <= limit) return message.length;
  return encoder.encode(message).byteLength;
}

function listenError(err: unknown): unknown {
  // Deno's errors carry `code` on recent versions; the station reads it (src/http/listen-error.ts).
  if (err instanceof Deno.errors.AddrInUse) return Object.assign(err, { code: "EADDRINUSE" });
  if (err instanceof Deno.errors.PermissionDenied) return Object.assign(err, { code: "EACCES" });
  return err;
}

export function denoServe<T>(options: ServeOptions<T>): HttpServerHandle {
  const handlers = options.websocket;
  const sockets = new Set<WebSocket>();
  const aborter = new AbortController();

  function accept(request: Request, up: UpgradeRequest<T>, remoteAddress: string): Response | undefined {
    let protocol: string | undefined;
    const extra: [string, string][] = [];
    for (const [name, value] of Object.entries(up.headers ?? {})) {
      if (name.toLowerCase() === "sec-websocket-protocol") protocol = value;
      else extra.push([name, value]);
    }
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(request, { protocol, idleTimeout: IDLE_TIMEOUT_S });
    } catch {
      return undefined; // not a WebSocket upgrade request
    }
    const { socket, response } = upgraded;
    for (const [name, value] of extra) response.headers.set(name, value);
    socket.binaryType = "arraybuffer";
    let opened = false;
    let draining: ReturnType<typeof setTimeout> | undefined;
    const watchDrain = () => {
      if (draining) return;
      draining = setTimeout(function check() {
        if (socket.readyState !== OPEN) {
          draining = undefined;
          return;
        }
        if (socket.bufferedAmount > 0) {
          draining = setTimeout(check, DRAIN_POLL_MS);
          return;
        }
        draining = undefined;
        handlers.drain?.(conn);
      }, DRAIN_POLL_MS);
    };
    const conn: SocketConnection<T> = {
      data: up.data,
      remoteAddress,
      send(data) {
        if (socket.readyState !== OPEN) return 0;
        const queued = socket.bufferedAmount > 0;
        socket.send(data);
        if (socket.bufferedAmount > 0) watchDrain();
        // Callers only tell "sent" from "dropped" (0); the character count spares an encode.
        return queued ? -1 : Math.max(1, data.length);
      },
      close(code, reason) {
        if (socket.readyState <= OPEN) socket.close(code, reason);
      },
      ping() {
        // Deno answers for liveness itself (IDLE_TIMEOUT_S); an open socket has answered.
        queueMicrotask(() => {
          if (socket.readyState === OPEN) handlers.pong?.(conn);
        });
      },
      getBufferedAmount: () => socket.bufferedAmount,
    };
    socket.onopen = () => {
      opened = true;
      sockets.add(socket);
      handlers.open(conn);
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      const message = event.data;
      if (frameBytes(message, options.maxWebSocketPayload) > options.maxWebSocketPayload) {
        socket.close(CLOSE_TOO_BIG, "message too big");
        return;
      }
      handlers.message(conn, typeof message === "string" ? message : new Uint8Array(message));
    };
    socket.onclose = (event: CloseEvent) => {
      sockets.delete(socket);
      clearTimeout(draining);
      if (opened) handlers.close(conn, event.code, event.reason);
    };
    return response;
  }

  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      // Never share the port: a second station must get EADDRINUSE, as on Bun.
      reusePort: false,
      signal: aborter.signal,
      onListen: () => {}, // the station prints its own "listening" line
      handler: async (request, info) => {
        const length = Number(request.headers.get("content-length") ?? 0);
        if (length > options.maxRequestBodySize) return new Response(null, { status: 413 });
        const remoteAddress = info.remoteAddr.hostname;
        let upgraded: Response | undefined;
        const response = await options.fetch(request, {
          remoteAddress,
          upgrade: (up) => {
            if (upgraded) return false;
            upgraded = accept(request, up, remoteAddress);
            return upgraded !== undefined;
          },
        });
        return response ?? upgraded ?? new Response(null, { status: 500 });
      },
    });
  } catch (err) {
    throw listenError(err);
  }
  return {
    port: server.addr.port,
    async stop(closeActiveConnections) {
      if (closeActiveConnections) {
        for (const socket of sockets) socket.close(1001, "station stopping");
        aborter.abort();
      } else {
        await server.shutdown();
      }
      await server.finished;
    },
  };
}
