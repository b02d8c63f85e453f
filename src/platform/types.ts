/**
 * The runtime port: everything Bun-specific the station calls, and nothing more, so a Deno
 * port is one more folder (STYLE.md; hono's adapter/bun, kysely's SqliteDatabase).
 */

import type { SqliteDatabase } from "kysely";

/** A value SQLite binds as a parameter. */
export type SqliteValue = string | number | bigint | boolean | null | Uint8Array;

/** One prepared statement run for each row of parameters. */
export interface BatchStatement {
  sql: string;
  rows: (string | number | null)[][];
}

/**
 * One SQLite connection: what kysely's SqliteDialect calls (`prepare`, `close`, from its own
 * `SqliteDatabase` interface) plus the few calls the station makes itself.
 */
export interface SqliteHandle extends SqliteDatabase {
  /** Runs statements without parameters or results (pragmas). */
  exec(sql: string): void;
  run(sql: string, params?: readonly SqliteValue[]): void;
  /** Every row of a query; `Row` is the shape the SQL selects, as the caller declares it. */
  query<Row>(sql: string, params?: readonly SqliteValue[]): Row[];
  /** Runs every row of every statement in one transaction, with statements prepared once. */
  runBatch(statements: BatchStatement[]): void;
  /** A consistent copy of the whole database in a new file, safe while others write (`VACUUM INTO`). */
  backupTo(file: string): void;
  /** SQLite's integrity check (`quick`: PRAGMA quick_check); the problems found, none when sound. */
  integrityCheck(mode: "quick" | "full"): string[];
}

export interface SocketConnection<T> {
  readonly data: T;
  readonly remoteAddress: string;
  /** Returns bytes sent, -1 when queued by backpressure, 0 when dropped. */
  send(data: string): number;
  close(code?: number, reason?: string): void;
  ping(): void;
  getBufferedAmount(): number;
}

export interface SocketHandlers<T> {
  open(ws: SocketConnection<T>): void;
  message(ws: SocketConnection<T>, message: string | Uint8Array): void;
  close(ws: SocketConnection<T>, code: number, reason: string): void;
  pong?(ws: SocketConnection<T>): void;
  drain?(ws: SocketConnection<T>): void;
}

export interface UpgradeRequest<T> {
  data: T;
  headers?: Record<string, string>;
}

export interface RequestContext<T> {
  remoteAddress: string;
  /** Hands the request to the WebSocket layer; false when it was not a valid upgrade. */
  upgrade(upgrade: UpgradeRequest<T>): boolean;
}

export interface ServeOptions<T> {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
  maxWebSocketPayload: number;
  fetch(request: Request, ctx: RequestContext<T>): Response | undefined | Promise<Response | undefined>;
  websocket: SocketHandlers<T>;
}

export interface HttpServerHandle {
  readonly port: number;
  stop(closeActiveConnections: boolean): Promise<void>;
}

export interface SpawnedProcess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  writeStdin(line: string): void;
  kill(signal?: number | NodeJS.Signals): void;
  readonly exited: Promise<number>;
}

/** Files built into the executable (`bun build --compile` keeps them), as text. */
export interface EmbeddedFiles {
  /** src/ble/ble_bridge.py: the bleak helper the station writes to its data dir for python3. */
  readonly bleBridgeScript: string;
  /** src/http/web/app.html: the web app's page. */
  readonly webAppHtml: string;
  /** src/http/web/app.ts bundled for browsers (`bun build.ts --web`). */
  readonly webAppScript: string;
}

/** An outbound WebSocket (the cloud link): what the station calls on it. */
export interface OutboundSocket {
  send(text: string): void;
  /**
   * Sends a ping frame; its pong arrives as `OutboundSocketHandlers.pong`. Absent where the
   * runtime's client cannot send pings (Deno): the caller then checks liveness its own way.
   */
  ping?(): void;
  /** Bytes queued and not yet written. */
  readonly bufferedAmount: number;
  close(code?: number, reason?: string): void;
}

export interface OutboundSocketHandlers {
  open(): void;
  message(text: string): void;
  /** The answer to `OutboundSocket.ping` (never called where there is no `ping`). */
  pong(): void;
  /** Once per socket, however it ended (also after a failed connect or a TLS error). */
  close(code: number, reason: string): void;
}

/** One accepted TCP connection (the embedded MQTT broker's). */
export interface TcpConnection {
  readonly remoteAddress: string | undefined;
  /** Sends bytes; false when some wait behind a full socket (`onDrain` follows once all are sent). */
  write(chunk: Uint8Array): boolean;
  /** Stops and restarts reading (backpressure). */
  pause(): void;
  resume(): void;
  /** Sends what is still queued, then closes the sending side. */
  end(): void;
  /** Closes at once; what is queued is dropped. */
  destroy(): void;
}

/** What an accepted connection reports to its owner, in order: data, end, then close once. */
export interface TcpConnectionHandlers {
  onData(chunk: Buffer): void;
  /** The peer closed its sending side. */
  onEnd(): void;
  /** The connection is gone (after an end, an error, or `destroy`). */
  onClose(error?: Error): void;
  /** Everything `write` queued has been sent. */
  onDrain(): void;
}

export interface TcpListener {
  readonly port: number;
  /** Stops accepting; open connections are left to their owners. */
  close(): Promise<void>;
}

export interface Platform {
  readonly runtime: string;
  readonly embedded: EmbeddedFiles;
  openSqlite(path: string): SqliteHandle;
  serve<T>(options: ServeOptions<T>): HttpServerHandle;
  /**
   * A TCP server (the embedded MQTT broker's; Bun: `Bun.listen`, about 5 KB less per connection
   * than node:net). Rejects with an Error whose `code` is e.g. "EADDRINUSE" when the port
   * cannot be bound.
   */
  listenTcp(
    options: { hostname: string; port: number },
    accept: (connection: TcpConnection) => TcpConnectionHandlers,
  ): Promise<TcpListener>;
  spawn(cmd: string[], options?: { cwd?: string; env?: Record<string, string | undefined> }): SpawnedProcess;
  hashPassword(password: string): Promise<string>;
  verifyPassword(password: string, hash: string): Promise<boolean>;
  /**
   * Opens a WebSocket to `url`; `wss://` verifies the server's certificate against the system
   * roots, or against `ca` (PEM) when given (Bun trusts only `ca` then; Deno adds it to the
   * system roots). Failures, TLS ones included, arrive as `handlers.close`, never as a throw.
   */
  connectWebSocket(url: string, options: { ca?: string }, handlers: OutboundSocketHandlers): OutboundSocket;
  /**
   * Gives memory back once the engine is idle: a full collection, the compiled code of functions
   * (rebuilt when next called) and the allocator's free pages (Bun: `Bun.shrink`). Absent on
   * Deno, which offers no such call without `--expose-gc`; V8 schedules its own idle-time
   * collections there.
   */
  releaseMemory?(): void;
  /**
   * The station has started. The compiled Bun executable starts with JavaScriptCore's tier-up
   * thresholds scaled up (build.ts, `compile.jitPolicy`), so code that runs once at start stays in
   * the interpreter instead of being compiled; from here on the JIT works as usual. Absent on Deno.
   */
  startupDone?(): void;
}
