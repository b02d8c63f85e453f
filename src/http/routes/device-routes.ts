import { OpenAPIHono, z } from "@hono/zod-openapi";
import {
  type DeviceService,
  describeDeviceTypes,
  MAX_WAIT_MS,
  requireCommandRole,
  summarize,
} from "../../devices/index.ts";
import {
  commandRequestSchema,
  createdDeviceSchema,
  type DeviceCredentials,
  deviceBodySchema,
  deviceEventListSchema,
  deviceListSchema,
  deviceTypesSchema,
} from "../../protocol/index.ts";
import type { ApiEnv } from "../api-env.ts";
import { errorBodySchema, errorResponses, jsonBody, jsonResponse } from "../common-schemas.ts";
import { defineRoute } from "../route-access.ts";
import { validationHook } from "../validation-hook.ts";
import { deviceNameSchema, idParam } from "./device-schemas.ts";

export interface DeviceRouteDeps {
  devices: DeviceService;
  credentialsFor(deviceId: string, token: string): DeviceCredentials;
}

const notFound = {
  404: { description: "No such device", content: { "application/json": { schema: errorBodySchema } } },
};

const routes = {
  types: defineRoute({
    access: "guest",
    method: "get",
    path: "/device-types",
    summary: "Device types and the commands each takes (params as JSON Schema)",
    responses: { 200: jsonResponse(deviceTypesSchema, "Types"), ...errorResponses },
  }),
  create: defineRoute({
    access: "admin",
    method: "post",
    path: "/devices",
    summary: "Register a device (admin); the MQTT password is shown once",
    request: {
      body: jsonBody(
        z.object({ name: deviceNameSchema, type: z.string().min(1).max(32) }).openapi("NewDevice"),
      ),
    },
    responses: {
      201: jsonResponse(createdDeviceSchema, "Created"),
      ...errorResponses,
    },
  }),
  list: defineRoute({
    access: "guest",
    method: "get",
    path: "/devices",
    summary: "All devices",
    responses: {
      200: jsonResponse(deviceListSchema, "Devices"),
      ...errorResponses,
    },
  }),
  get: defineRoute({
    access: "guest",
    method: "get",
    path: "/devices/{id}",
    summary: "One device",
    request: { params: idParam },
    responses: { 200: jsonResponse(deviceBodySchema, "The device"), ...errorResponses, ...notFound },
  }),
  rename: defineRoute({
    access: "admin",
    method: "patch",
    path: "/devices/{id}",
    summary: "Rename a device (admin)",
    request: {
      params: idParam,
      body: jsonBody(z.object({ name: deviceNameSchema }).openapi("RenameDevice")),
    },
    responses: { 200: jsonResponse(deviceBodySchema, "Renamed"), ...errorResponses, ...notFound },
  }),
  remove: defineRoute({
    access: "admin",
    method: "delete",
    path: "/devices/{id}",
    summary: "Delete a device (admin): revokes its credentials and disconnects it at once",
    request: { params: idParam },
    responses: {
      200: jsonResponse(z.object({ ok: z.literal(true), deviceId: z.string() }), "Deleted"),
      ...errorResponses,
      ...notFound,
    },
  }),
  command: defineRoute({
    access: "member",
    method: "post",
    path: "/devices/{id}/commands",
    summary: "Send a command (member); ?wait=<ms> waits for the device to confirm",
    request: {
      params: idParam,
      query: z.object({ wait: z.coerce.number().int().min(1).max(MAX_WAIT_MS).optional() }),
      body: jsonBody(commandRequestSchema),
    },
    responses: {
      200: jsonResponse(
        z.object({ requestId: z.string(), status: z.literal("ok") }),
        "Confirmed by the device",
      ),
      202: jsonResponse(z.object({ requestId: z.string(), status: z.literal("sent") }), "Sent"),
      ...errorResponses,
      ...notFound,
    },
  }),
  events: defineRoute({
    access: "guest",
    method: "get",
    path: "/devices/{id}/events",
    summary: "A device's events, newest first",
    request: {
      params: idParam,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(500).optional(),
        // An event id (paging) or an epoch-ms time; an empty value means none.
        before: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().optional()),
      }),
    },
    responses: {
      200: jsonResponse(deviceEventListSchema, "Events"),
      ...errorResponses,
      ...notFound,
    },
  }),
};

export function deviceRoutes(deps: DeviceRouteDeps) {
  const { devices } = deps;
  const registry = devices.registry;
  const deviceTypes = describeDeviceTypes();
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openapi(routes.types, (c) => c.json({ deviceTypes }, 200));
  app.openapi(routes.create, async (c) => {
    const { name, type } = c.req.valid("json");
    const { device, token } = await registry.create({ name, type });
    return c.json({ device: summarize(device), credentials: deps.credentialsFor(device.id, token!) }, 201);
  });
  app.openapi(routes.list, async (c) => c.json({ devices: (await registry.list()).map(summarize) }, 200));
  app.openapi(routes.get, async (c) =>
    c.json({ device: summarize(await registry.require(c.req.valid("param").id)) }, 200),
  );
  app.openapi(routes.rename, async (c) => {
    const device = await registry.rename(c.req.valid("param").id, c.req.valid("json").name);
    return c.json({ device: summarize(device) }, 200);
  });
  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid("param");
    await registry.remove(id);
    return c.json({ ok: true as const, deviceId: id }, 200);
  });
  app.openapi(routes.command, async (c) => {
    const { id } = c.req.valid("param");
    const { action, params } = c.req.valid("json");
    requireCommandRole(action, c.var.principal.role);
    const { wait } = c.req.valid("query");
    const result = await devices.commands.send(id, action, params, wait);
    return result.status === "ok"
      ? c.json(result, 200)
      : c.json({ requestId: result.requestId, status: "sent" as const }, 202);
  });
  app.openapi(routes.events, async (c) => {
    const { id } = c.req.valid("param");
    await registry.require(id);
    const { limit, before } = c.req.valid("query");
    return c.json({ events: await devices.queryEvents({ deviceId: id, limit, before }) }, 200);
  });
  return app;
}
