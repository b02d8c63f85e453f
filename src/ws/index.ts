export type { AppSocketData, Channel, ConnectionLimits, Subscription } from "./app-connection.ts";
export { AppConnection } from "./app-connection.ts";
export type { AppSocketDeps, AppSocketServer } from "./app-socket-server.ts";
export { CLOSE_PONG_TIMEOUT, CLOSE_SESSION_REVOKED, createAppSocketServer } from "./app-socket-server.ts";
export { coreOperations } from "./core-operations.ts";
export { errorFrame, parseRequestFrame, resultFrame } from "./frames.ts";
export type { Operation } from "./operations.ts";
export { defineOperation } from "./operations.ts";
export { APP_PROTOCOL, socketToken } from "./socket-token.ts";
