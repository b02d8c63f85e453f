import type { SocketHandlers } from "../platform/index.ts";

/**
 * The HTTP server has one set of WebSocket handlers; each endpoint tags its sockets with
 * a `kind` at upgrade, and this routes every event to that endpoint's handlers.
 */
export function dispatchSockets<T extends { kind: string }>(
  byKind: {
    [K in T["kind"]]: SocketHandlers<Extract<T, { kind: K }>>;
  },
): SocketHandlers<T> {
  const pick = (data: T) => byKind[data.kind as T["kind"]] as unknown as SocketHandlers<T>;
  return {
    open: (ws) => pick(ws.data).open(ws),
    message: (ws, msg) => pick(ws.data).message(ws, msg),
    close: (ws, code, reason) => pick(ws.data).close(ws, code, reason),
    pong: (ws) => pick(ws.data).pong?.(ws),
    drain: (ws) => pick(ws.data).drain?.(ws),
  };
}
