import { z } from "zod";
import type { Channel } from "./app-frames.ts";
import {
  automationFailedPushSchema,
  automationFiredPushSchema,
  automationNotifyPushSchema,
  automationSuspendedPushSchema,
} from "./automations.ts";
import { deferred } from "./deferred.ts";
import { deviceSchema } from "./device.ts";

/**
 * Pushes on `/ws` (CONTRACT.md section 4): `{"type":"push","channel","event","subscriptionId","data"}`,
 * one `data` schema per event. Device events go out exactly as they travel on the bus.
 */

export const deviceStatePushSchema = deferred(() =>
  z.object({
    deviceId: z.string(),
    /** The whole merged state. */
    state: z.record(z.string(), z.unknown()),
    at: z.number(),
  }),
);
export const deviceStatusPushSchema = deferred(() =>
  z.object({ deviceId: z.string(), online: z.boolean(), at: z.number() }),
);
export const deviceAddedPushSchema = deferred(() => z.object({ device: deviceSchema }));
export const deviceRemovedPushSchema = deferred(() => z.object({ deviceId: z.string() }));
export const deviceEventPushSchema = deferred(() =>
  z.object({
    deviceId: z.string(),
    kind: z.string(),
    data: z.unknown(),
    at: z.number(),
  }),
);

/** An unprovisioned device seen by the BLE scan (also `GET /api/provisioning/candidates`). */
export const provisioningCandidateSchema = deferred(() =>
  z
    .object({ address: z.string(), name: z.string(), rssi: z.number(), seenAt: z.number() })
    .meta({ id: "ProvisioningCandidate" }),
);
export const provisioningResultSchema = deferred(() =>
  z.object({
    deviceId: z.string(),
    ok: z.boolean(),
    error: z.string().optional(),
  }),
);

const pushes = {
  "device.state": { channel: "devices", data: deviceStatePushSchema },
  "device.status": { channel: "devices", data: deviceStatusPushSchema },
  "device.added": { channel: "devices", data: deviceAddedPushSchema },
  "device.removed": { channel: "devices", data: deviceRemovedPushSchema },
  "device.event": { channel: "events", data: deviceEventPushSchema },
  "provisioning.candidate": { channel: "provisioning", data: provisioningCandidateSchema },
  "provisioning.result": { channel: "provisioning", data: provisioningResultSchema },
  "automation.fired": { channel: "automations", data: automationFiredPushSchema },
  "automation.failed": { channel: "automations", data: automationFailedPushSchema },
  "automation.suspended": { channel: "automations", data: automationSuspendedPushSchema },
  "automation.notify": { channel: "automations", data: automationNotifyPushSchema },
} as const satisfies Record<string, { channel: Channel; data: z.ZodType }>;

export type PushEventName = keyof typeof pushes;
/** The channel each push event travels on. */
export type PushChannel<E extends PushEventName> = (typeof pushes)[E]["channel"];
export type PushData<E extends PushEventName> = z.infer<(typeof pushes)[E]["data"]>;

function pushFrameOf<E extends PushEventName>(event: E) {
  return z.object({
    type: z.literal("push"),
    channel: z.literal(pushes[event].channel as PushChannel<E>),
    event: z.literal(event),
    subscriptionId: z.string(),
    data: pushes[event].data as (typeof pushes)[E]["data"],
  });
}

export const pushFrameSchema = deferred(() =>
  z.discriminatedUnion("event", [
    pushFrameOf("device.state"),
    pushFrameOf("device.status"),
    pushFrameOf("device.added"),
    pushFrameOf("device.removed"),
    pushFrameOf("device.event"),
    pushFrameOf("provisioning.candidate"),
    pushFrameOf("provisioning.result"),
    pushFrameOf("automation.fired"),
    pushFrameOf("automation.failed"),
    pushFrameOf("automation.suspended"),
    pushFrameOf("automation.notify"),
  ]),
);

type PushFrames = {
  [E in PushEventName]: {
    type: "push";
    channel: PushChannel<E>;
    event: E;
    subscriptionId: string;
    data: PushData<E>;
  };
};
/** A push of a known event; `data` is typed by `event`. */
export type PushFrame<E extends PushEventName = PushEventName> = PushFrames[E];

// The mapped type above (which generic code can index) is exactly what the schema parses:
// tsc fails here if the two ever part.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type PushFrameMatchesSchema = Holds<Same<PushFrame, z.infer<typeof pushFrameSchema>>>;
