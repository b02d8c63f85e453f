/**
 * What the station sends an app on `/ws` (CONTRACT.md section 4, docs/protocol.md), parsed
 * with zod before the client acts on it. Objects are loose: a newer station may add fields.
 */
import { z } from "zod";

export const channelSchema = z.enum(["devices", "events", "provisioning"]);
export type Channel = z.infer<typeof channelSchema>;

export const welcomeSchema = z.looseObject({
  type: z.literal("welcome"),
  protocol: z.string(),
  serverTime: z.number(),
  stationId: z.string(),
  user: z.looseObject({ id: z.string(), role: z.string() }),
});
export type Welcome = z.infer<typeof welcomeSchema>;

const frameId = z.union([z.string(), z.number()]).nullable();

export const resultSchema = z.looseObject({ id: frameId, type: z.literal("result"), data: z.unknown() });

export const errorSchema = z.looseObject({
  id: frameId,
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

const deviceSummarySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  online: z.boolean(),
  state: z.record(z.string(), z.unknown()),
});

/** One schema per push event the contract names; `data` is typed by `event`. */
const pushData = {
  "device.state": z.looseObject({
    deviceId: z.string(),
    state: z.record(z.string(), z.unknown()),
    at: z.number(),
  }),
  "device.status": z.looseObject({ deviceId: z.string(), online: z.boolean(), at: z.number() }),
  "device.added": z.looseObject({ device: deviceSummarySchema }),
  "device.removed": z.looseObject({ deviceId: z.string() }),
  "device.event": z.looseObject({
    deviceId: z.string(),
    kind: z.string(),
    data: z.unknown(),
    at: z.number(),
  }),
  "provisioning.candidate": z.looseObject({
    address: z.string(),
    name: z.string().nullable(),
    rssi: z.number(),
    seenAt: z.number(),
  }),
  "provisioning.result": z.looseObject({
    deviceId: z.string(),
    ok: z.boolean(),
    error: z.string().optional(),
  }),
};
export type PushEventName = keyof typeof pushData;

const pushEnvelope = z.looseObject({
  type: z.literal("push"),
  channel: channelSchema,
  event: z.string(),
  subscriptionId: z.string(),
  data: z.unknown(),
});

/** Known events only: an event this client version cannot type is not handed on. */
export type Push = {
  [E in PushEventName]: {
    type: "push";
    channel: Channel;
    event: E;
    subscriptionId: string;
    data: z.infer<(typeof pushData)[E]>;
  };
}[PushEventName];

function parsePush(json: unknown): Push | undefined {
  const envelope = pushEnvelope.safeParse(json);
  if (!envelope.success || !Object.hasOwn(pushData, envelope.data.event)) return undefined;
  const data = pushData[envelope.data.event as PushEventName].safeParse(envelope.data.data);
  return data.success ? ({ ...envelope.data, data: data.data } as Push) : undefined;
}

export const systemSchema = z.union([
  z.looseObject({ type: z.literal("system"), event: z.literal("dropped"), count: z.number() }),
  z.looseObject({ type: z.literal("system"), event: z.literal("shutdown"), gracePeriodMs: z.number() }),
  z.looseObject({ type: z.literal("system"), event: z.string() }),
]);
export type SystemFrame =
  | { type: "system"; event: "dropped"; count: number }
  | { type: "system"; event: "shutdown"; gracePeriodMs: number }
  | { type: "system"; event: string; [key: string]: unknown };

/** Parses one text frame; undefined for anything that is not a frame of this protocol. */
export function parseServerFrame(
  text: string,
):
  | { type: "welcome"; frame: Welcome }
  | { type: "result"; frame: z.infer<typeof resultSchema> }
  | { type: "error"; frame: z.infer<typeof errorSchema> }
  | { type: "push"; frame: Push }
  | { type: "system"; frame: SystemFrame }
  | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type === "welcome") return wrap("welcome", welcomeSchema.safeParse(json));
  if (type === "result") return wrap("result", resultSchema.safeParse(json));
  if (type === "error") return wrap("error", errorSchema.safeParse(json));
  if (type === "system")
    return wrap("system", systemSchema.safeParse(json) as z.ZodSafeParseResult<SystemFrame>);
  if (type === "push") {
    const push = parsePush(json);
    return push && { type: "push", frame: push };
  }
  return undefined;
}

function wrap<K extends string, T>(type: K, result: z.ZodSafeParseResult<T>) {
  return result.success ? { type, frame: result.data } : undefined;
}
