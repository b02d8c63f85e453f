import type { AuthService, LoginRateLimiter, TokenAdmin, UserAdmin } from "../auth/index.ts";
import { ConfigError } from "../config/index.ts";
import type { Logger } from "../logging/index.ts";
import type { HttpServerHandle, Platform } from "../platform/index.ts";
import type { StationModule } from "../station-module.ts";
import { type Api, createApi } from "./create-api.ts";
import { createFrontDoor, type UpgradeHandler } from "./front-door.ts";
import type { HostAllowList } from "./host-allow-list.ts";
import { API_BODY_LIMIT } from "./json-body.ts";
import { explainListenError } from "./listen-error.ts";
import { type Health, healthSchema } from "./routes/health-routes.ts";
import { dispatchSockets } from "./socket-dispatch.ts";

export interface HttpModuleDeps {
  platform: Platform;
  /** Each request, with its declared body size (0 without Content-Length), as it arrives. */
  noteRequest?: (bodyBytes: number) => void;
  host: string;
  port: number;
  remoteAccess: "on" | "off";
  /** The names the station answers to in `Host`. */
  hosts: HostAllowList;
  logger: Logger;
  version: string;
  auth: AuthService;
  users: UserAdmin;
  tokens: TokenAdmin;
  loginLimiter: LoginRateLimiter;
  /** The core's own health fields; modules add theirs. */
  health(): Pick<Health, "status" | "version" | "stationId" | "instanceId" | "uptimeMs" | "storage">;
}

type TaggedSocket = { kind: string };

/**
 * The one port (CONTRACT.md section 4): the API under /api, every module's WebSocket
 * endpoints, plain endpoints and the web app. Modules listed before it start before anyone can
 * connect; those after it start once the station answers.
 */
export interface HttpModule extends StationModule {
  /** The bound port, once started. */
  readonly port: number | undefined;
  /** The API as mounted, for the test that walks every route's declared access (`allRoutes`). */
  readonly api: Api;
}

export function createHttpModule(deps: HttpModuleDeps): HttpModule {
  let server: HttpServerHandle | undefined;

  /** Every module's routes, sockets and endpoints on the one port. */
  function mount(modules: readonly StationModule[]) {
    const health = (): Health => {
      const fields = Object.assign({}, ...modules.map((m) => m.health?.() ?? {}));
      // Parsed, so a module that stopped contributing a required field is a clear error here.
      return healthSchema.parse({ ...fields, ...deps.health() });
    };
    const api = createApi({
      logger: deps.logger,
      version: deps.version,
      auth: deps.auth,
      users: deps.users,
      tokens: deps.tokens,
      loginLimiter: deps.loginLimiter,
      health,
      connections: () => modules.flatMap((m) => m.connections?.() ?? []),
      routes: modules.flatMap((m) => m.routes ?? []),
    });
    const sockets: Record<string, UpgradeHandler<TaggedSocket>> = {};
    const handlers: Parameters<typeof dispatchSockets<TaggedSocket>>[0] = {};
    const endpoints: Record<string, (request: Request, remoteAddress: string) => Promise<Response>> = {};
    for (const endpoint of modules.flatMap((m) => m.sockets ?? [])) {
      if (sockets[endpoint.path] || handlers[endpoint.kind])
        throw new Error(`two modules claim the socket endpoint ${endpoint.path} (${endpoint.kind})`);
      sockets[endpoint.path] = endpoint.upgrade;
      handlers[endpoint.kind] = endpoint.handlers;
    }
    for (const endpoint of modules.flatMap((m) => m.endpoints ?? [])) {
      if (endpoints[endpoint.path]) throw new Error(`two modules claim the endpoint ${endpoint.path}`);
      endpoints[endpoint.path] = endpoint.handle;
    }
    const frontDoor = createFrontDoor<TaggedSocket>({
      api: api.app,
      remoteAccess: deps.remoteAccess,
      hosts: deps.hosts,
      webApp: deps.platform.embedded,
      sockets,
      endpoints,
    });
    const noteRequest = deps.noteRequest;
    return {
      api,
      fetch: noteRequest
        ? (request: Request, ctx: Parameters<typeof frontDoor>[1]) => {
            noteRequest(Number(request.headers.get("content-length")) || 0);
            return frontDoor(request, ctx);
          }
        : frontDoor,
      websocket: dispatchSockets<TaggedSocket>(handlers),
    };
  }

  let mounted: ReturnType<typeof mount> | undefined;
  return {
    name: "http",
    critical: true,
    get port() {
      return server?.port;
    },
    get api() {
      if (!mounted) throw new Error("the HTTP module is not started");
      return mounted.api;
    },
    start({ modules }) {
      mounted = mount(modules);
      try {
        server = deps.platform.serve<TaggedSocket>({
          hostname: deps.host,
          port: deps.port,
          // Far above the API's own limit, so oversized bodies get its JSON error, not a bare 413.
          maxRequestBodySize: 128 * API_BODY_LIMIT,
          maxWebSocketPayload: 64 * 1024,
          fetch: mounted.fetch,
          websocket: mounted.websocket,
        });
      } catch (err) {
        throw new ConfigError(explainListenError(err, deps.host, deps.port));
      }
    },
    async stop() {
      await server?.stop(true);
      server = undefined;
    },
  };
}
