import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../api-env.ts";
import { errorResponses, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";

const cloudStatusSchema = z
  .object({
    configured: z.boolean(),
    connected: z.boolean(),
    claimed: z.boolean(),
    lastError: z.string().optional(),
    /** When the link last authenticated (epoch ms). */
    lastConnectedAt: z.number().int().optional(),
  })
  .openapi("CloudStatus");
export type CloudStatus = z.infer<typeof cloudStatusSchema>;

const route = defineRoute({
  access: "guest",
  method: "get",
  path: "/cloud/status",
  summary: "The optional cloud relay link: configured, connected, claimed",
  responses: { 200: jsonResponse(cloudStatusSchema, "Cloud link status"), ...errorResponses },
});

export function cloudRoutes(status: () => Promise<CloudStatus>) {
  return new OpenAPIHono<ApiEnv>().openapi(route, async (c) => c.json(await status(), 200));
}
