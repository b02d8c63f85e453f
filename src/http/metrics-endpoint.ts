import { type AuthService, hasRole } from "../auth/index.ts";
import { StationError, toStationError } from "../core/index.ts";
import { bearerToken } from "./auth-guard.ts";
import { isLoopbackAddress } from "./network-class.ts";

/** `GET /metrics`: Prometheus text, for an admin token or a scraper on this machine. */
export function createMetricsEndpoint(
  auth: AuthService,
  metrics: { contentType: string; render(): Promise<string> },
) {
  return async (request: Request, remoteAddress: string): Promise<Response> => {
    if (request.method !== "GET") return new StationError("NOT_FOUND", "use GET /metrics").toResponse();
    if (!isLoopbackAddress(remoteAddress)) {
      try {
        const principal = await auth.authenticate(bearerToken(request.headers.get("authorization")));
        if (!hasRole(principal.role, "admin"))
          throw new StationError("FORBIDDEN", "metrics need the admin role");
      } catch (err) {
        return toStationError(err).toResponse();
      }
    }
    return new Response(await metrics.render(), { headers: { "content-type": metrics.contentType } });
  };
}
