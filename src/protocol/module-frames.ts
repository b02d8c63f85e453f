import { z } from "zod";
import { automationModuleEventSchema } from "./automations.ts";
import { deferred } from "./deferred.ts";
import { deviceEventPushSchema, deviceStatePushSchema, deviceStatusPushSchema } from "./push.ts";

/**
 * `/ws/modules` (CONTRACT.md section 4): the AIRI server-runtime event protocol, as the
 * published `@proj-airi/server-sdk` 0.8.4 client and the newer extension-style clients speak
 * it. Every frame is an event `{type, data, metadata?, route?}`, carried as superjson
 * (`{"json":{…},"meta"?}`) or plain JSON. The lengths below bound what one module can make the
 * hub hold and fan out (docs/security.md).
 */

export const MODULE_NAME_MAX = 128;
const moduleName = deferred(() => z.string().min(1).max(MODULE_NAME_MAX));
const version = deferred(() => z.string().max(64));
export const moduleLabelsSchema = deferred(() =>
  z
    .record(z.string().min(1).max(63), z.string().max(256))
    .refine((labels) => Object.keys(labels).length <= 32, "at most 32 labels"),
);
export type ModuleLabels = z.infer<typeof moduleLabelsSchema>;

/** The 0.8.4 identity: `{plugin, instanceId, labels?}`. */
export const pluginInstanceIdentitySchema = deferred(() =>
  z.object({
    plugin: moduleName,
    instanceId: moduleName,
    version: version.optional(),
    labels: moduleLabelsSchema.optional(),
  }),
);
/** The newer module identity: `{kind:"plugin", id, plugin:{id, labels?}, labels?}`. */
export const pluginModuleIdentitySchema = deferred(() =>
  z.object({
    kind: z.literal("plugin"),
    id: moduleName,
    plugin: z.object({ id: moduleName, version: version.optional(), labels: moduleLabelsSchema.optional() }),
    labels: moduleLabelsSchema.optional(),
  }),
);
/** The extension-module identity of `extension:module:announce`: `{id, extension:{id, labels?}, labels?}`. */
export const extensionModuleIdentitySchema = deferred(() =>
  z.object({
    id: moduleName,
    extension: z.object({
      id: moduleName,
      sessionId: moduleName.optional(),
      version: version.optional(),
      labels: moduleLabelsSchema.optional(),
    }),
    labels: moduleLabelsSchema.optional(),
  }),
);
export const moduleIdentitySchema = deferred(() =>
  z.union([pluginModuleIdentitySchema, pluginInstanceIdentitySchema, extensionModuleIdentitySchema]),
);
export type ModuleIdentity = z.infer<typeof moduleIdentitySchema>;

/** A routing target: a string form (`*` glob, `plugin:x`, `instance:x`, `label:k=v`, `module:name`) or an expression. */
export type RouteTargetExpression =
  | { type: "and"; all: RouteTargetExpression[] }
  | { type: "or"; any: RouteTargetExpression[] }
  | { type: "glob"; glob: string; inverted?: boolean }
  | { type: "ids"; ids: string[]; inverted?: boolean }
  | { type: "plugin"; plugins: string[]; inverted?: boolean }
  | { type: "instance"; instances: string[]; inverted?: boolean }
  | { type: "label"; selectors: string[]; inverted?: boolean }
  | { type: "module"; modules: string[]; inverted?: boolean }
  | { type: "source"; sources: string[]; inverted?: boolean };
export type RouteDestination = string | RouteTargetExpression;

/** How deep `and`/`or` may nest: deeper ones are refused before zod recurses into them. */
export const MAX_EXPRESSION_DEPTH = 8;
const target = deferred(() => z.string().max(256));
const targets = deferred(() => z.array(target).max(64));
const inverted = deferred(() => z.boolean().optional());
export const routeTargetExpressionSchema: z.ZodType<RouteTargetExpression> = deferred(() =>
  z.lazy(() =>
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("and"), all: z.array(routeTargetExpressionSchema).max(64) }),
      z.object({ type: z.literal("or"), any: z.array(routeTargetExpressionSchema).max(64) }),
      z.object({ type: z.literal("glob"), glob: target, inverted }),
      z.object({ type: z.literal("ids"), ids: targets, inverted }),
      z.object({ type: z.literal("plugin"), plugins: targets, inverted }),
      z.object({ type: z.literal("instance"), instances: targets, inverted }),
      z.object({ type: z.literal("label"), selectors: targets, inverted }),
      z.object({ type: z.literal("module"), modules: targets, inverted }),
      z.object({ type: z.literal("source"), sources: targets, inverted }),
    ]),
  ),
);

/** Nesting depth of a JSON value, counted no further than `limit + 1`. */
function depthAtMost(value: unknown, limit: number): boolean {
  if (limit < 0) return false;
  if (typeof value !== "object" || value === null) return true;
  return Object.values(value).every((v) => depthAtMost(v, limit - 1));
}

/** One destination; an unusable one parses to `null` and matches no peer. */
export const routeDestinationSchema = deferred(() =>
  z.unknown().transform((value): RouteDestination | null => {
    if (typeof value === "string") return value.length <= 256 ? value : null;
    // Two levels per and/or step ({all:[…]}), two more for the innermost ({plugins:[…]}).
    if (!depthAtMost(value, 2 * MAX_EXPRESSION_DEPTH + 2)) return null;
    const parsed = routeTargetExpressionSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  }),
);
export const routeDestinationsSchema = deferred(() => z.array(routeDestinationSchema).max(64));

export const moduleRouteSchema = deferred(() =>
  z.object({
    destinations: routeDestinationsSchema.optional(),
    bypass: z.boolean().optional(),
  }),
);

export const moduleEventMetadataSchema = deferred(() =>
  z.object({
    source: z.unknown().optional(),
    event: z
      .object({ id: z.string().max(128).optional(), parentId: z.string().max(128).optional() })
      .optional(),
  }),
);

/** Any event as it arrives; `data` is checked per type by the schemas below. */
export const moduleEventSchema = deferred(() =>
  z.object({
    type: z.string().min(1).max(128),
    data: z.unknown(),
    metadata: moduleEventMetadataSchema.optional(),
    route: moduleRouteSchema.optional(),
  }),
);
export type ModuleEvent = z.infer<typeof moduleEventSchema>;

export const heartbeatDataSchema = deferred(() =>
  z.object({
    kind: z.enum(["ping", "pong"]),
    message: z.string().max(64).optional(),
    at: z.number().optional(),
  }),
);
export const authenticateDataSchema = deferred(() => z.object({ token: z.string().max(4096) }));
export const announceDataSchema = deferred(() =>
  z.object({
    name: moduleName,
    identity: moduleIdentitySchema,
    possibleEvents: z.array(z.string().max(128)).max(256).optional(),
    index: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
  }),
);
export const extensionAnnounceDataSchema = deferred(() =>
  z.object({
    name: moduleName,
    identity: moduleIdentitySchema,
    possibleEvents: z.array(z.string().max(128)).max(256).optional(),
  }),
);
export const uiConfigureDataSchema = deferred(() =>
  z.object({
    moduleName,
    moduleIndex: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
    config: z.unknown(),
  }),
);

/** One entry of the module registry. */
export const registeredModuleSchema = deferred(() =>
  z.object({
    name: moduleName,
    index: z.number().int().min(0).optional(),
    identity: moduleIdentitySchema,
  }),
);
export type RegisteredModule = z.infer<typeof registeredModuleSchema>;

/** `opengenie:device.command`: a module asks the station (module `opengenie`) to command a device. */
export const moduleDeviceCommandSchema = deferred(() =>
  z.object({
    deviceId: z.string().min(1).max(128),
    action: z.string().min(1).max(64),
    params: z.record(z.string(), z.unknown()).optional(),
    /** Wait this long for the device to confirm, as `devices.command` on `/ws` does. */
    wait: z.number().int().min(1).max(60_000).optional(),
  }),
);
/** The station's answer to `opengenie:device.command`, sent to the module that asked. */
export const moduleDeviceCommandResultSchema = deferred(() =>
  z.object({
    deviceId: z.string(),
    action: z.string(),
    ok: z.boolean(),
    requestId: z.string().optional(),
    status: z.enum(["sent", "ok"]).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
);

/** What the hub itself sends, by event type. */
export const moduleServerEventData = {
  "transport:connection:heartbeat": heartbeatDataSchema,
  "module:authenticated": z.object({ authenticated: z.literal(true) }),
  "registry:modules:sync": z.object({ modules: z.array(registeredModuleSchema) }),
  "module:announced": registeredModuleSchema,
  "extension:module:announced": extensionAnnounceDataSchema,
  "module:de-announced": registeredModuleSchema.extend({ reason: z.string().optional() }),
  "module:configure": z.object({ config: z.unknown() }),
  error: z.object({ message: z.string() }),
  "opengenie:device.command.result": moduleDeviceCommandResultSchema,
  // The station as module `opengenie` publishes device events as they travel on the bus.
  "device.state": deviceStatePushSchema,
  "device.status": deviceStatusPushSchema,
  "device.event": deviceEventPushSchema,
  // A `module_event` action of an automation (docs/automations.md).
  "automation.event": automationModuleEventSchema,
} as const;
export type ModuleServerEventType = keyof typeof moduleServerEventData;
export type ModuleServerEventData<T extends ModuleServerEventType> = z.infer<
  (typeof moduleServerEventData)[T]
>;

/** The answer to a wrong token: an error, never `module:authenticated {authenticated:false}`. */
export const MODULE_INVALID_TOKEN = "invalid token";
/**
 * Told once to an unauthenticated peer that sends an event to route. Not AIRI's bare "not
 * authenticated": the 0.8.4 client reconnects on exactly that text, once per event it sends.
 */
export const MODULE_NOT_AUTHENTICATED =
  "not authenticated: send module:authenticate with the hub's token first";
/** Close code for a module silent longer than the heartbeat timeout. */
export const CLOSE_MODULE_HEARTBEAT_TIMEOUT = 4000;
