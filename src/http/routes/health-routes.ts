import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../api-env.ts";
import { jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";

export const healthSchema = z
  .object({
    status: z.literal("ok"),
    version: z.string(),
    stationId: z.string(),
    /** This process among the instances forming the station (docs/scale-out.md). */
    instanceId: z.string(),
    uptimeMs: z.number(),
    mqtt: z.object({ mode: z.enum(["embedded", "external"]), connected: z.boolean() }),
    /** Whether device data reaches the disk; `error` while it is held back (disk full, I/O error). */
    storage: z.object({ ok: z.boolean(), error: z.string().optional() }),
  })
  .openapi("Health");

export type Health = z.infer<typeof healthSchema>;

const route = defineRoute({
  access: "public",
  method: "get",
  path: "/health",
  summary: "Liveness and basic facts; the only endpoint without authentication",
  responses: { 200: jsonResponse(healthSchema, "The station is up") },
});

export function healthRoutes(health: () => Health) {
  return new OpenAPIHono<ApiEnv>().openapi(route, (c) => c.json(health(), 200));
}
