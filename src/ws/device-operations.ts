import { z } from "zod";
import { type DeviceService, MAX_WAIT_MS, requireCommandRole, summarize } from "../devices/index.ts";
import { commandRequestSchema } from "../protocol/index.ts";
import { defineOperation } from "./operations.ts";

/** `devices.*` and `events.*` on /ws: the same device core the HTTP API uses. */
export function deviceOperations(devices: DeviceService) {
  const { registry } = devices;
  return [
    defineOperation({
      type: "devices.list",
      role: "guest",
      payload: z.unknown(),
      handle: async () => ({ devices: (await registry.list()).map(summarize) }),
    }),
    defineOperation({
      type: "devices.get",
      role: "guest",
      payload: z.object({ id: z.string().min(1) }),
      handle: async ({ id }) => ({ device: summarize(await registry.require(id)) }),
    }),
    defineOperation({
      type: "devices.command",
      role: "member",
      payload: commandRequestSchema.extend({
        id: z.string().min(1),
        wait: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
      }),
      handle: ({ id, action, params, wait }, conn) => {
        requireCommandRole(action, conn.principal.role);
        return devices.commands.send(id, action, params, wait);
      },
    }),
    defineOperation({
      type: "events.query",
      role: "guest",
      payload: z.object({
        deviceId: z.string().optional(),
        limit: z.number().int().min(1).max(500).optional(),
        before: z.number().int().optional(),
      }),
      handle: async (q) => ({ events: await devices.queryEvents(q) }),
    }),
  ];
}
