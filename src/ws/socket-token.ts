import { APP_PROTOCOL, BEARER_PROTOCOL_PREFIX as BEARER_PREFIX } from "../protocol/index.ts";

export { APP_PROTOCOL };

/** The access token offered on an upgrade: `?token=` or the `opengenie.bearer.<token>` subprotocol. */
export function offeredProtocols(request: Request): string[] {
  return (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

export function socketToken(request: Request): string | undefined {
  const fromQuery = new URL(request.url).searchParams.get("token");
  if (fromQuery) return fromQuery;
  const bearer = offeredProtocols(request).find((p) => p.startsWith(BEARER_PREFIX));
  return bearer?.slice(BEARER_PREFIX.length) || undefined;
}

/** Headers for the 101 answer: select `opengenie.v1` when the client offered it. */
export function upgradeHeaders(request: Request): Record<string, string> {
  return offeredProtocols(request).includes(APP_PROTOCOL) ? { "Sec-WebSocket-Protocol": APP_PROTOCOL } : {};
}
