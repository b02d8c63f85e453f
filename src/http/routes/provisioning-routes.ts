import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ProvisioningService } from "../../ble/index.ts";
import { deviceTypeSchema, provisioningCandidateSchema } from "../../protocol/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorBodySchema, errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";
import { deviceNameSchema } from "./device-schemas.ts";

const addRoute = defineRoute({
  access: "admin",
  method: "post",
  path: "/provisioning/add",
  summary: "Pair an ESP32 over Bluetooth (admin): the outcome arrives as provisioning.result on /ws",
  request: {
    body: jsonBody(
      z
        .object({
          address: z.string().min(1).max(64),
          ssid: z.string().min(1).max(32),
          password: z.string().max(64),
          name: deviceNameSchema,
          type: deviceTypeSchema,
          joinTimeoutSec: z.number().int().min(5).max(600).optional(),
        })
        .openapi("ProvisioningRequest"),
    ),
  },
  responses: {
    202: jsonResponse(z.object({ deviceId: z.string() }), "Credentials are being written"),
    ...errorResponses,
    503: {
      description: "Bluetooth is not usable here",
      content: { "application/json": { schema: errorBodySchema } },
    },
  },
});

const candidatesRoute = defineRoute({
  access: "admin",
  method: "get",
  path: "/provisioning/candidates",
  summary: "Unprovisioned devices seen by the current scan (admin)",
  responses: {
    200: jsonResponse(
      z.object({
        candidates: z.array(provisioningCandidateSchema),
        scanning: z.boolean(),
        helper: z.object({
          status: z.enum(["stopped", "starting", "ready", "unavailable"]),
          restarts: z.number().int(),
          lastError: z.object({ code: z.string(), message: z.string() }).optional(),
        }),
      }),
      "Candidates, whether a scan runs, and the BLE helper's state",
    ),
    ...errorResponses,
  },
});

export function provisioningRoutes(provisioning: ProvisioningService) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(addRoute, async (c) => c.json(await provisioning.provision(c.req.valid("json")), 202));
  app.openapi(candidatesRoute, (c) =>
    c.json({ candidates: provisioning.candidates(), ...provisioning.status() }, 200),
  );
  return app;
}
