/**
 * The runtime port's types, for the whole station (always `import type`, so nothing here
 * loads a runtime). The implementations, src/platform/bun/ and src/platform/deno/, are
 * chosen by bin/opengenie.ts; only Bun-run tests take the Bun one from here.
 */
export { createBunPlatform } from "./bun/bun-platform.ts";
export type {
  BatchStatement,
  EmbeddedFiles,
  HttpServerHandle,
  OutboundSocket,
  OutboundSocketHandlers,
  Platform,
  RequestContext,
  ServeOptions,
  SocketConnection,
  SocketHandlers,
  SpawnedProcess,
  SqliteHandle,
  SqliteValue,
  TcpConnection,
  TcpConnectionHandlers,
  TcpListener,
  UpgradeRequest,
} from "./types.ts";
