import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * Automations (CONTRACT.md section 2, docs/automations.md): "when this happens, if that holds,
 * do this". One schema validates the API, the stored rows and the OpenAPI document.
 */

const deviceId = deferred(() => z.string().min(1).max(64));
const stateKey = deferred(() => z.string().min(1).max(64));
const scalar = deferred(() => z.union([z.string().max(256), z.number(), z.boolean(), z.null()]));
export const comparisonOpSchema = deferred(() => z.enum(["eq", "ne", "gt", "gte", "lt", "lte", "changed"]));

/** `HH:MM` on a 24-hour clock, in the station's time zone. */
export const clockTimeSchema = deferred(() =>
  z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time as HH:MM (00:00–23:59)"),
);

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
/** Days as `mon`…`sun` or 0–6 (0 = Sunday, 7 also Sunday, as in cron). */
export const daysSchema = deferred(() =>
  z
    .array(z.union([z.enum(DAY_NAMES), z.number().int().min(0).max(7)]))
    .min(1)
    .max(7),
);
/** 0 = Sunday … 6 = Saturday. */
export function dayNumbers(days: z.infer<typeof daysSchema>): number[] {
  return days.map((d) => (typeof d === "number" ? d % 7 : DAY_NAMES.indexOf(d)));
}

/** `value` is required by every comparison but `changed`. */
function needsValue<T extends { op: string; value?: unknown }>(t: T, ctx: z.RefinementCtx) {
  if (t.op !== "changed" && t.value === undefined) {
    ctx.addIssue({ code: "custom", path: ["value"], message: `op ${t.op} needs a value` });
  }
}

const deviceStateShape = {
  type: z.literal("device_state"),
  deviceId,
  key: stateKey,
  op: comparisonOpSchema,
  value: scalar.optional(),
};

export const deviceStateTriggerSchema = deferred(() =>
  z.strictObject(deviceStateShape).superRefine(needsValue),
);
export const deviceEventTriggerSchema = deferred(() =>
  z.strictObject({
    type: z.literal("device_event"),
    deviceId,
    /** The event's kind (`device_event`, `user_event`) or its `data.event`; absent = any. */
    event: z.string().min(1).max(64).optional(),
  }),
);
export const deviceStatusTriggerSchema = deferred(() =>
  z.strictObject({
    type: z.literal("device_status"),
    deviceId,
    online: z.boolean(),
  }),
);
export const cronTriggerSchema = deferred(() =>
  z.strictObject({
    type: z.literal("time"),
    /** Six fields, seconds first: `sec min hour day-of-month month day-of-week`. */
    cron: z.string().min(11).max(200),
    /** Fire once at start-up for a time missed while the station was down. */
    catchUp: z.boolean().optional(),
  }),
);
export const atTriggerSchema = deferred(() =>
  z.strictObject({
    type: z.literal("time"),
    at: clockTimeSchema,
    days: daysSchema.optional(),
    catchUp: z.boolean().optional(),
  }),
);

export const triggerSchema = deferred(() =>
  z
    .union([
      deviceStateTriggerSchema,
      deviceEventTriggerSchema,
      deviceStatusTriggerSchema,
      cronTriggerSchema,
      atTriggerSchema,
    ])
    .meta({ id: "AutomationTrigger" }),
);
export type Trigger = z.infer<typeof triggerSchema>;
export type DeviceStateTrigger = z.infer<typeof deviceStateTriggerSchema>;
export type TimeTrigger = z.infer<typeof cronTriggerSchema> | z.infer<typeof atTriggerSchema>;

export const deviceStateConditionSchema = deferred(() =>
  z
    .strictObject({ ...deviceStateShape, op: comparisonOpSchema.exclude(["changed"]) })
    .superRefine(needsValue),
);
/** A window in the station's time zone; `after` later than `before` wraps past midnight. */
export const timeConditionSchema = deferred(() =>
  z
    .strictObject({
      type: z.literal("time"),
      after: clockTimeSchema.optional(),
      before: clockTimeSchema.optional(),
      days: daysSchema.optional(),
    })
    .refine((c) => c.after || c.before || c.days, "a time condition needs after, before or days"),
);
export const conditionSchema = deferred(() =>
  z.union([deviceStateConditionSchema, timeConditionSchema]).meta({ id: "AutomationCondition" }),
);
export type Condition = z.infer<typeof conditionSchema>;

export const MAX_DELAY_MS = 86_400_000;
export const actionSchema = deferred(() =>
  z
    .union([
      z.strictObject({
        type: z.literal("device_command"),
        deviceId,
        action: z.string().min(1).max(64),
        params: z.record(z.string(), z.unknown()).optional(),
      }),
      z.strictObject({ type: z.literal("delay"), ms: z.number().int().min(0).max(MAX_DELAY_MS) }),
      z.strictObject({ type: z.literal("notify"), message: z.string().min(1).max(1000) }),
      /** An event to `/ws/modules` modules, published by the station's module `opengenie` as `automation.event`. */
      z.strictObject({
        type: z.literal("module_event"),
        event: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, "1-64 letters, digits, ':', '.', '_' or '-'"),
        data: z.record(z.string(), z.unknown()).optional(),
      }),
    ])
    .meta({ id: "AutomationAction" }),
);
export type Action = z.infer<typeof actionSchema>;

export const automationModeSchema = deferred(() => z.enum(["single", "restart", "queued"]));

/** What an admin sends to create one (`POST /api/automations`). */
export const automationInputSchema = deferred(() =>
  z
    .strictObject({
      name: z.string().trim().min(1).max(100),
      enabled: z.boolean().default(true),
      mode: automationModeSchema.default("single"),
      triggers: z.array(triggerSchema).min(1).max(16),
      conditions: z.array(conditionSchema).max(16).default([]),
      actions: z.array(actionSchema).min(1).max(32),
    })
    .meta({ id: "NewAutomation" }),
);
export type AutomationInput = z.infer<typeof automationInputSchema>;

/** `PATCH /api/automations/:id`: any of the fields; `enabled: true` also lifts a suspension. */
export const automationPatchSchema = deferred(() =>
  z
    .strictObject({
      name: z.string().trim().min(1).max(100).optional(),
      enabled: z.boolean().optional(),
      mode: automationModeSchema.optional(),
      triggers: z.array(triggerSchema).min(1).max(16).optional(),
      conditions: z.array(conditionSchema).max(16).optional(),
      actions: z.array(actionSchema).min(1).max(32).optional(),
    })
    .meta({ id: "AutomationPatch" }),
);
export type AutomationPatch = z.infer<typeof automationPatchSchema>;

export const automationSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      enabled: z.boolean(),
      mode: automationModeSchema,
      triggers: z.array(triggerSchema),
      conditions: z.array(conditionSchema),
      actions: z.array(actionSchema),
      /** Why the station disabled it (loop protection); cleared when it is enabled again. */
      suspendedReason: z.string().optional(),
      createdAt: z.number(),
      updatedAt: z.number(),
    })
    .meta({ id: "Automation" }),
);
export type Automation = z.infer<typeof automationSchema>;

export const automationBodySchema = deferred(() => z.object({ automation: automationSchema }));
export const automationListSchema = deferred(() => z.object({ automations: z.array(automationSchema) }));

/** What started a run: a trigger's type and what it saw, or `manual`. */
export const runTriggerSchema = deferred(() =>
  z
    .object({
      type: z.enum(["device_state", "device_event", "device_status", "time", "manual"]),
      deviceId: z.string().optional(),
      key: z.string().optional(),
      value: z.unknown().optional(),
      event: z.string().optional(),
      online: z.boolean().optional(),
      scheduledAt: z.number().optional(),
      userId: z.string().optional(),
    })
    .meta({ id: "AutomationRunTrigger" }),
);
export type RunTrigger = z.infer<typeof runTriggerSchema>;

export const actionOutcomeSchema = deferred(() =>
  z.object({
    type: z.string(),
    ok: z.boolean(),
    error: z.string().optional(),
    /** The station error code (DEVICE_OFFLINE, DEVICE_ERROR, DEVICE_TIMEOUT, …). */
    code: z.string().optional(),
    startedAt: z.number(),
    finishedAt: z.number(),
  }),
);
export type ActionOutcome = z.infer<typeof actionOutcomeSchema>;

export const automationRunSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      automationId: z.string(),
      trigger: runTriggerSchema,
      startedAt: z.number(),
      /** null while it runs. */
      finishedAt: z.number().nullable(),
      /** null while it runs. */
      ok: z.boolean().nullable(),
      error: z.string().optional(),
      actions: z.array(actionOutcomeSchema),
    })
    .meta({ id: "AutomationRun" }),
);
export type AutomationRun = z.infer<typeof automationRunSchema>;
export const automationRunListSchema = deferred(() => z.object({ runs: z.array(automationRunSchema) }));

/** `POST /api/automations/:id/run` → 202. */
export const automationRunStartedSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    /** `started`, `queued` (mode queued), or `skipped` (mode single, a run in progress). */
    status: z.enum(["started", "queued", "skipped"]),
    runId: z.string().optional(),
  }),
);

// Pushes on the `automations` channel (CONTRACT.md sections 2 and 4).
export const automationFiredPushSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    runId: z.string(),
    at: z.number(),
  }),
);
export const automationFailedPushSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    runId: z.string(),
    error: z.string(),
    at: z.number(),
  }),
);
export const automationSuspendedPushSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    reason: z.string(),
    at: z.number(),
  }),
);
/** A `notify` action's message. */
export const automationNotifyPushSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    runId: z.string(),
    message: z.string(),
    at: z.number(),
  }),
);

/** What modules on `/ws/modules` receive for a `module_event` action (event type `automation.event`). */
export const automationModuleEventSchema = deferred(() =>
  z.object({
    automationId: z.string(),
    runId: z.string(),
    event: z.string(),
    data: z.record(z.string(), z.unknown()),
    at: z.number(),
  }),
);
