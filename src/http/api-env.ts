import type { Principal } from "../auth/index.ts";

/**
 * Hono environment: the front door passes the client address; the API sets `authenticate`
 * for the route guards, which set the principal.
 */
export interface ApiEnv {
  Bindings: { remoteAddress: string };
  Variables: {
    authenticate: (token: string | undefined) => Promise<Principal>;
    principal: Principal;
  };
}
