export { createBunPlatform } from "./bun-platform.ts";
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
  UpgradeRequest,
} from "./types.ts";
