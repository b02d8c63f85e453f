import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../api-env.ts";
import type { AuthGuard } from "../auth-guard.ts";
import { errorResponses, jsonResponse, security } from "../common-schemas.ts";

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

const route = createRoute({
  method: "get",
  path: "/connections",
  summary: "Live app sockets, IoT sockets, drivers and modules (admin)",
  security,
  responses: { 200: jsonResponse(connectionsSchema, "Connections"), ...errorResponses },
});

export function connectionRoutes(list: () => ConnectionInfo[], guard: AuthGuard) {
  const app = new OpenAPIHono<ApiEnv>();
  app.use("/connections", guard("admin"));
  app.openapi(route, (c) => {
    const all = list();
    const of = (kind: ConnectionInfo["kind"]) => all.filter((x) => x.kind === kind);
    return c.json({ apps: of("app"), iot: of("iot"), drivers: of("driver"), modules: of("module") }, 200);
  });
  return app;
}
