/**
 * A browser-style WebSocket never shows the HTTP status of a refused upgrade: a 401 and an
 * unreachable host both look like close 1006. The station authenticates `/api/auth/me` with
 * the same token, so one plain request tells a refused token (fatal) from a network error
 * (worth retrying).
 */
import { errorBodySchema } from "../protocol/index.ts";
import { StationClientError } from "./station-client-error.ts";

/** `ws://host:port` → `ws://host:port/ws`; http(s) is accepted and mapped to ws(s). */
export function socketUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/ws";
  return u.toString();
}

function httpOrigin(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === "wss:" || u.protocol === "https:" ? "https:" : "http:";
  return u.origin;
}

export async function diagnoseFailedUpgrade(options: {
  url: string;
  token: string;
  fetchImpl?: typeof fetch;
}): Promise<StationClientError | undefined> {
  const doFetch = options.fetchImpl ?? globalThis.fetch;
  if (!doFetch) return undefined;
  try {
    const res = await doFetch(`${httpOrigin(options.url)}/api/auth/me`, {
      headers: { authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (res.status !== 401) return undefined;
    const body = errorBodySchema.safeParse(await res.json().catch(() => undefined));
    const why = body.success ? body.data.error.message : "the station refused the token";
    return new StationClientError("UNAUTHORIZED", why, { status: 401 });
  } catch {
    return undefined;
  }
}
