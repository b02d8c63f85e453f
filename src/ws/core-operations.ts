import { z } from "zod";
import type { Clock } from "../core/index.ts";
import { defineOperation } from "./operations.ts";

/** Operations every connection has, whatever else the station runs. */
export function coreOperations(clock: Clock) {
  return [
    defineOperation({
      type: "ping",
      role: "guest",
      payload: z.unknown(),
      handle: () => ({ pong: clock.now() }),
    }),
    defineOperation({
      type: "auth.whoami",
      role: "guest",
      payload: z.unknown(),
      handle: (_payload, conn) => {
        const p = conn.principal;
        return {
          user: { id: p.userId, username: p.username, role: p.role },
          sessionId: p.sessionId,
          expiresAt: p.expiresAt,
        };
      },
    }),
  ];
}
