/**
 * The runtime port: everything Bun-specific the station calls, and nothing more, so a Deno
 * port is one more folder (STYLE.md; hono's adapter/bun, kysely's SqliteDatabase).
 */

/** One prepared statement run for each row of parameters. */
export interface BatchStatement {
  sql: string;
  rows: (string | number | null)[][];
}

/** What kysely's SqliteDialect needs, plus `exec` for pragmas and a fast batch path. */
export interface SqliteHandle {
  prepare(sql: string): unknown;
  exec(sql: string): void;
  close(): void;
  /** Runs every row of every statement in one transaction, with statements prepared once. */
  runBatch(statements: BatchStatement[]): void;
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

export interface Platform {
  readonly runtime: string;
  openSqlite(path: string): SqliteHandle;
  serve<T>(options: ServeOptions<T>): HttpServerHandle;
  spawn(cmd: string[], options?: { cwd?: string; env?: Record<string, string | undefined> }): SpawnedProcess;
  hashPassword(password: string): Promise<string>;
  verifyPassword(password: string, hash: string): Promise<boolean>;
}
