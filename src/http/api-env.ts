import type { Principal } from "../auth/index.ts";

/** Hono environment: the front door passes the client address; the auth guard sets the principal. */
export interface ApiEnv {
  Bindings: { remoteAddress: string };
  Variables: { principal: Principal };
}
