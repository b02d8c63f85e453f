export { createBunPlatform } from "./bun-platform.ts";
export type {
  BatchStatement,
  HttpServerHandle,
  Platform,
  RequestContext,
  ServeOptions,
  SocketConnection,
  SocketHandlers,
  SpawnedProcess,
  SqliteHandle,
  UpgradeRequest,
} from "./types.ts";
