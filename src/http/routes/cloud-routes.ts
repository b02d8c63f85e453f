import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../api-env.ts";
import type { AuthGuard } from "../auth-guard.ts";
import { errorResponses, jsonResponse, security } from "../common-schemas.ts";

const cloudStatusSchema = z
  .object({
    configured: z.boolean(),
    connected: z.boolean(),
    claimed: z.boolean(),
    lastError: z.string().optional(),
  })
  .openapi("CloudStatus");
export type CloudStatus = z.infer<typeof cloudStatusSchema>;

const route = createRoute({
  method: "get",
  path: "/cloud/status",
  summary: "The optional cloud relay link: configured, connected, claimed",
  security,
  responses: { 200: jsonResponse(cloudStatusSchema, "Cloud link status"), ...errorResponses },
});

export function cloudRoutes(status: () => Promise<CloudStatus>) {
  return (guard: AuthGuard) => {
    const app = new OpenAPIHono<ApiEnv>();
    app.use("/cloud/*", guard("guest"));
    app.openapi(route, async (c) => c.json(await status(), 200));
    return app;
  };
}
