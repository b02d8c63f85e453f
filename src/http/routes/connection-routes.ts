import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../api-env.ts";
import { errorResponses, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";

export const connectionInfoSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["app", "iot", "driver", "module"]),
    remoteAddress: z.string(),
    connectedAt: z.number(),
    principal: z.string().optional(),
    messagesIn: z.number(),
    messagesOut: z.number(),
    dropped: z.number(),
  })
  .openapi("Connection");
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;

const connectionsSchema = z.object({
  apps: z.array(connectionInfoSchema),
  iot: z.array(connectionInfoSchema),
  drivers: z.array(connectionInfoSchema),
  modules: z.array(connectionInfoSchema),
});

const route = defineRoute({
  access: "admin",
  method: "get",
  path: "/connections",
  summary: "Live app sockets, IoT sockets, drivers and modules (admin)",
  responses: { 200: jsonResponse(connectionsSchema, "Connections"), ...errorResponses },
});

export function connectionRoutes(list: () => ConnectionInfo[]) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(route, (c) => {
    const all = list();
    const of = (kind: ConnectionInfo["kind"]) => all.filter((x) => x.kind === kind);
    return c.json({ apps: of("app"), iot: of("iot"), drivers: of("driver"), modules: of("module") }, 200);
  });
  return app;
}
