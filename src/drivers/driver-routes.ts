import { OpenAPIHono, z } from "@hono/zod-openapi";
import { type ApiEnv, defineRoute, errorResponses, jsonResponse, validationHook } from "../http/index.ts";
import {
  DRIVER_KEY_PATTERN,
  DRIVER_KEY_RULE,
  type DriverInfo,
  type DriverRevoked,
  type DriverToken,
  driverListSchema,
  driverRevokedSchema,
  driverTokenSchema,
} from "../protocol/index.ts";

export interface DriverRouteDeps {
  list(): Promise<DriverInfo[]>;
  issueToken(driverKey: string): Promise<DriverToken>;
  revokeToken(driverKey: string): Promise<DriverRevoked>;
}

const keyParam = z.object({
  driverKey: z
    .string()
    .regex(DRIVER_KEY_PATTERN, DRIVER_KEY_RULE)
    .openapi({ param: { name: "driverKey", in: "path" }, example: "HUE_BRIDGE" }),
});

const routes = {
  list: defineRoute({
    access: "admin",
    method: "get",
    path: "/drivers",
    summary: "Drivers with a token, a device or a live session, and their devices (admin)",
    responses: { 200: jsonResponse(driverListSchema, "Drivers"), ...errorResponses },
  }),
  issue: defineRoute({
    access: "admin",
    method: "post",
    path: "/drivers/{driverKey}/token",
    summary:
      "Make a driver token for a driverKey (admin); shown once, it replaces the previous one and closes the sessions that used it",
    request: { params: keyParam },
    responses: { 201: jsonResponse(driverTokenSchema, "The token, shown this once"), ...errorResponses },
  }),
  revoke: defineRoute({
    access: "admin",
    method: "delete",
    path: "/drivers/{driverKey}/token",
    summary: "Revoke a driverKey's token (admin): the sessions that used it close at once",
    request: { params: keyParam },
    responses: {
      200: jsonResponse(driverRevokedSchema, "Revoked (or there was no token)"),
      ...errorResponses,
    },
  }),
};

/** `/api/drivers…`: what `opengenie driver token` and `opengenie drivers` use on a running station. */
export function driverRoutes(deps: DriverRouteDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(routes.list, async (c) => c.json({ drivers: await deps.list() }, 200));
  app.openapi(routes.issue, async (c) => c.json(await deps.issueToken(c.req.valid("param").driverKey), 201));
  app.openapi(routes.revoke, async (c) =>
    c.json(await deps.revokeToken(c.req.valid("param").driverKey), 200),
  );
  return app;
}
