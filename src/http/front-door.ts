import type { OpenAPIHono } from "@hono/zod-openapi";
import { StationError } from "../core/index.ts";
import type { RequestContext } from "../platform/index.ts";
import type { ApiEnv } from "./api-env.ts";
import { isLocalAddress } from "./network-class.ts";
import { type WebAppFiles, webAppResponse } from "./web-app.ts";

export const API_BODY_LIMIT = 64 * 1024;

export type UpgradeHandler<T> = (request: Request, ctx: RequestContext<T>) => Promise<Response | undefined>;

export interface FrontDoorDeps<T> {
  api: OpenAPIHono<ApiEnv>;
  remoteAccess: "on" | "off";
  sockets: Record<string, UpgradeHandler<T>>;
  metrics?: (request: Request, remoteAddress: string) => Promise<Response>;
  /** The embedded web app (`platform.embedded`), served outside /api, /ws*, /driver and /metrics. */
  webApp: WebAppFiles;
}

/**
 * JSON bodies are parsed here, whatever the Content-Type says, so malformed JSON is always a
 * PARSE_ERROR and an oversized body a PAYLOAD_TOO_LARGE, before any route sees it.
 */
async function normalizeJsonBody(request: Request): Promise<Request> {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "DELETE") return request;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > API_BODY_LIMIT)
    throw new StationError("PAYLOAD_TOO_LARGE", `request body over ${API_BODY_LIMIT} bytes`);
  const text = await request.text();
  if (text.length > API_BODY_LIMIT)
    throw new StationError("PAYLOAD_TOO_LARGE", `request body over ${API_BODY_LIMIT} bytes`);
  if (text.trim() !== "") {
    try {
      JSON.parse(text);
    } catch {
      throw new StationError("PARSE_ERROR", "request body is not valid JSON");
    }
  }
  const headers = new Headers(request.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Request(request.url, { method: request.method, headers, body: text === "" ? "{}" : text });
}

/** One port: routes each request to the API, a WebSocket endpoint, metrics or the web app. */
export function createFrontDoor<T>(deps: FrontDoorDeps<T>) {
  return async (request: Request, ctx: RequestContext<T>): Promise<Response | undefined> => {
    // The kill switch runs before auth and on every path (CONTRACT.md section 4).
    if (deps.remoteAccess === "off" && !isLocalAddress(ctx.remoteAddress)) {
      return new StationError("UNAVAILABLE", "remote access is switched off on this station").toResponse();
    }
    const path = new URL(request.url).pathname;
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
    if (path === "/metrics" && deps.metrics) return deps.metrics(request, ctx.remoteAddress);
    if (path.startsWith("/ws") || path === "/driver") {
      return new StationError("NOT_FOUND", `no WebSocket endpoint at ${path}`).toResponse();
    }
    return webAppResponse(deps.webApp, path);
  };
}
