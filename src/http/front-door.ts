import type { OpenAPIHono } from "@hono/zod-openapi";
import { StationError } from "../core/index.ts";
import type { RequestContext } from "../platform/index.ts";
import type { ApiEnv } from "./api-env.ts";
import type { HostAllowList } from "./host-allow-list.ts";
import { normalizeJsonBody } from "./json-body.ts";
import { isLocalAddress } from "./network-class.ts";
import { type WebAppFiles, webAppResponse } from "./web-app.ts";

export type UpgradeHandler<T> = (request: Request, ctx: RequestContext<T>) => Promise<Response | undefined>;

export interface FrontDoorDeps<T> {
  api: OpenAPIHono<ApiEnv>;
  remoteAccess: "on" | "off";
  hosts: HostAllowList;
  sockets: Record<string, UpgradeHandler<T>>;
  /** Plain endpoints outside /api (e.g. /metrics), each with its own access rule. */
  endpoints: Record<string, (request: Request, remoteAddress: string) => Promise<Response>>;
  /** The embedded web app (`platform.embedded`), served outside /api, /ws*, /driver and /metrics. */
  webApp: WebAppFiles;
}

/** One port: routes each request to the API, a WebSocket endpoint, a plain endpoint or the web app. */
export function createFrontDoor<T>(deps: FrontDoorDeps<T>) {
  return async (request: Request, ctx: RequestContext<T>): Promise<Response | undefined> => {
    // The kill switch runs before auth and on every path (CONTRACT.md section 4).
    if (deps.remoteAccess === "off" && !isLocalAddress(ctx.remoteAddress)) {
      return new StationError("UNAVAILABLE", "remote access is switched off on this station").toResponse();
    }
    const host = deps.hosts.check(request.headers.get("host"));
    if (host === "malformed") {
      return new StationError("VALIDATION_ERROR", "missing or malformed Host header").toResponse();
    }
    if (host === "foreign") {
      return new StationError(
        "FORBIDDEN",
        `this station does not answer to the name ${request.headers.get("host")} (a defence against DNS rebinding); use its IP address or .local name, or add the name to OPENGENIE_ALLOWED_HOSTS (comma-separated)`,
      ).toResponse();
    }
    let path: string;
    try {
      path = new URL(request.url).pathname;
    } catch {
      return new StationError("VALIDATION_ERROR", "malformed request URL").toResponse();
    }
    const socket = deps.sockets[path];
    if (socket) return socket(request, ctx);
    if (path === "/api" || path.startsWith("/api/")) {
      try {
        return await deps.api.fetch(await normalizeJsonBody(request), { remoteAddress: ctx.remoteAddress });
      } catch (err) {
        if (err instanceof StationError) return err.toResponse();
        throw err;
      }
    }
    const endpoint = deps.endpoints[path];
    if (endpoint) return endpoint(request, ctx.remoteAddress);
    if (path.startsWith("/ws") || path === "/driver") {
      return new StationError("NOT_FOUND", `no WebSocket endpoint at ${path}`).toResponse();
    }
    return webAppResponse(deps.webApp, path, request.headers);
  };
}
