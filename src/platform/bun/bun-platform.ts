import type { Server, ServerWebSocket } from "bun";
import type { HttpServerHandle, Platform, ServeOptions, SocketConnection, SpawnedProcess } from "../types.ts";
import { bunEmbeddedFiles } from "./bun-embedded.ts";
import { openBunSqlite } from "./bun-sqlite.ts";
import { listenBunTcp } from "./bun-tcp.ts";
import { connectBunWebSocket } from "./bun-websocket-client.ts";

type Envelope<T> = { app: T; conn?: SocketConnection<T> };

function wrapSocket<T>(ws: ServerWebSocket<Envelope<T>>): SocketConnection<T> {
  if (ws.data.conn) return ws.data.conn;
  const conn: SocketConnection<T> = {
    data: ws.data.app,
    remoteAddress: ws.remoteAddress,
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    ping: () => {
      ws.ping();
    },
    getBufferedAmount: () => ws.getBufferedAmount(),
  };
  ws.data.conn = conn;
  return conn;
}

function serve<T>(options: ServeOptions<T>): HttpServerHandle {
  const handlers = options.websocket;
  const server: Server<Envelope<T>> = Bun.serve<Envelope<T>>({
    hostname: options.hostname,
    port: options.port,
    maxRequestBodySize: options.maxRequestBodySize,
    development: false,
    // Never share the port with another process: a second station must get EADDRINUSE, not
    // half the requests (Bun would otherwise set SO_REUSEPORT).
    reusePort: false,
    fetch(request, srv) {
      const remoteAddress = srv.requestIP(request)?.address ?? "";
      return options.fetch(request, {
        remoteAddress,
        upgrade: (up) => srv.upgrade(request, { data: { app: up.data }, headers: up.headers }),
      });
    },
    websocket: {
      maxPayloadLength: options.maxWebSocketPayload,
      // We send our own ping frames and close with 4000 (CONTRACT 4), so Bun's idle timer is off.
      idleTimeout: 0,
      sendPings: false,
      open: (ws) => handlers.open(wrapSocket(ws)),
      message: (ws, msg) =>
        handlers.message(wrapSocket(ws), typeof msg === "string" ? msg : new Uint8Array(msg)),
      close: (ws, code, reason) => handlers.close(wrapSocket(ws), code, reason),
      pong: (ws) => handlers.pong?.(wrapSocket(ws)),
      drain: (ws) => handlers.drain?.(wrapSocket(ws)),
    },
  });
  return {
    port: server.port ?? options.port,
    stop: (closeActive) => server.stop(closeActive),
  };
}

function spawn(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): SpawnedProcess {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: options.env,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
    writeStdin: (line) => {
      proc.stdin.write(line);
      proc.stdin.flush();
    },
    kill: (signal) => proc.kill(signal),
    exited: proc.exited,
  };
}

export function createBunPlatform(): Platform {
  return {
    runtime: `bun ${Bun.version}`,
    embedded: bunEmbeddedFiles,
    openSqlite: openBunSqlite,
    serve,
    listenTcp: listenBunTcp,
    spawn,
    hashPassword: (password) => Bun.password.hash(password, { algorithm: "argon2id" }),
    verifyPassword: (password, hash) => Bun.password.verify(password, hash).catch(() => false),
    connectWebSocket: connectBunWebSocket,
    // A full collection, compiled code dropped and the allocator's free pages released, when the
    // engine is next idle (5-10 ms). An eden collection leaves what a burst promoted (RSS stayed
    // 35-45 MB up); Bun.gc(true) alone kept 7 MB more after 1,000 API requests: the allocator's
    // free pages and the code compiled for the burst (docs/performance.md). Once per burst.
    releaseMemory: () => (typeof Bun.shrink === "function" ? Bun.shrink() : Bun.gc(true)),
    startupDone: () => Bun.unsafe.setJITPolicy(1),
  };
}
