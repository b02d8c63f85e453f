import { z } from "zod";
import { deferred } from "./deferred.ts";

/** The `/ws` app socket (CONTRACT.md section 4, docs/protocol.md): everything but pushes. */

/** The subprotocol the station selects; the token rides along as `opengenie.bearer.<token>`. */
export const APP_PROTOCOL = "opengenie.v1";
export const BEARER_PROTOCOL_PREFIX = "opengenie.bearer.";

/** Close codes of `/ws`: no pong in time, and a token that expired or a session revoked. */
export const CLOSE_PONG_TIMEOUT = 4000;
export const CLOSE_SESSION_REVOKED = 4003;

export const channelSchema = deferred(() => z.enum(["devices", "events", "provisioning", "automations"]));
export type Channel = z.infer<typeof channelSchema>;

/** App → station. */
export const requestFrameSchema = deferred(() =>
  z.object({
    id: z.union([z.string().min(1).max(128), z.number().int()]),
    type: z.string().min(1).max(64),
    payload: z.unknown().optional(),
  }),
);
export type RequestFrame = z.infer<typeof requestFrameSchema>;

/** A reply echoes the request's id as sent, even one the request schema refused; null if none. */
export const frameIdSchema = deferred(() => z.union([z.string(), z.number()]).nullable());
export type FrameId = z.infer<typeof frameIdSchema>;

export const resultFrameSchema = deferred(() =>
  z.object({
    id: frameIdSchema,
    type: z.literal("result"),
    data: z.unknown(),
  }),
);
export type ResultFrame = z.infer<typeof resultFrameSchema>;

/** `code` is one of the station's error codes; a plain string so newer codes still parse. */
export const errorFrameSchema = deferred(() =>
  z.object({
    id: frameIdSchema,
    type: z.literal("error"),
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
);
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

export const welcomeFrameSchema = deferred(() =>
  z.object({
    type: z.literal("welcome"),
    protocol: z.string(),
    serverTime: z.number(),
    stationId: z.string(),
    user: z.object({ id: z.string(), role: z.string() }),
  }),
);
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;

export const droppedFrameSchema = deferred(() =>
  z.object({
    type: z.literal("system"),
    event: z.literal("dropped"),
    count: z.number(),
  }),
);
export const shutdownFrameSchema = deferred(() =>
  z.object({
    type: z.literal("system"),
    event: z.literal("shutdown"),
    gracePeriodMs: z.number(),
  }),
);
/** The notices this station sends; a client also takes any other `system` event, untyped. */
export type StationSystemFrame = z.infer<typeof droppedFrameSchema> | z.infer<typeof shutdownFrameSchema>;
export const systemFrameSchema = deferred(() =>
  z.union([
    droppedFrameSchema,
    shutdownFrameSchema,
    z.looseObject({ type: z.literal("system"), event: z.string() }),
  ]),
);
export type SystemFrame = StationSystemFrame | { type: "system"; event: string; [key: string]: unknown };

/** `subscribe` / `unsubscribe` operations. */
export const subscriptionFilterSchema = deferred(() =>
  z.object({ deviceId: z.string().optional(), type: z.string().optional() }).strict(),
);
export type SubscriptionFilter = z.infer<typeof subscriptionFilterSchema>;
export const subscribePayloadSchema = deferred(() =>
  z.object({
    channel: channelSchema,
    filter: subscriptionFilterSchema.optional(),
  }),
);
export const subscribeResultSchema = deferred(() => z.object({ subscriptionId: z.string() }));
export const unsubscribePayloadSchema = deferred(() => z.object({ subscriptionId: z.string() }));
