import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);

/** Whether the runtime's Intl knows a time zone name. */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const plugins = z.array(z.string().min(1).max(128)).max(64);
const selectors = z.array(z.string().min(1).max(256)).max(64);
/**
 * Who takes part in `/ws/modules` routing (CONTRACT.md section 4): a module whose plugin or
 * labels the policy excludes neither receives routed events nor reaches anyone with its own.
 */
export const modulesPolicySchema = z.strictObject({
  allowPlugins: plugins.optional(),
  denyPlugins: plugins.optional(),
  allowLabels: selectors.optional(),
  denyLabels: selectors.optional(),
});
export type ModulesPolicy = z.infer<typeof modulesPolicySchema>;

/** The environment holds the policy as JSON text, config.json as an object. */
function jsonText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** One schema for flags, environment, `<data-dir>/config.json` and defaults (CONTRACT.md section 1). */
export const configSchema = z.object({
  host: z.string().min(1).default("0.0.0.0"),
  port: port.default(8080),
  dataDir: z.string().min(1),
  mqttUrl: z
    .string()
    .regex(/^mqtts?:\/\/[^\s]+$/, "must be an mqtt:// or mqtts:// URL")
    .optional(),
  mqttPort: port.default(1883),
  /** PostgreSQL instead of the SQLite file in the data dir (docs/postgres.md, CONTRACT.md section 10). */
  databaseUrl: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/[^\s]+$/,
      "must be a postgres:// or postgresql:// URL (unset = SQLite in the data dir)",
    )
    .optional(),
  /** Most connections the station opens to PostgreSQL at once. */
  databasePoolMax: z.coerce.number().int().min(1).max(100).default(10),
  advertiseHost: z.string().min(1).optional(),
  stationId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '-' and '_' only (MQTT topic segment)")
    .optional(),
  jwtSecret: z.string().min(32, "must be at least 32 characters").optional(),
  /** This process among several forming one station (docs/scale-out.md); unset = generated once per data dir. */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '-' and '_' only (MQTT topic segment)")
    .optional(),
  remoteAccess: z.enum(["on", "off"]).default("on"),
  cloudUrl: z
    .string()
    .regex(/^wss?:\/\/[^\s]+$/, "must be a wss:// or ws:// URL")
    .optional(),
  cloudClaimSecret: z.string().min(1).optional(),
  /** A PEM file with the CA that signed the cloud's certificate, for a private cloud (docs/cloud.md). */
  cloudCa: z.string().min(1).optional(),
  bleBridge: z.string().min(1).optional(),
  /** Extra names the station answers to in `Host` (DNS-rebinding defence), comma-separated. */
  allowedHosts: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]_-]+(\s*,\s*[A-Za-z0-9.:[\]_-]+)*$/, "comma-separated host names")
    .optional(),
  /** The module hub's `AUTHENTICATION_TOKEN`; unset = no auth, and then loopback modules only. */
  modulesToken: z.string().min(1).max(4096).optional(),
  modulesPolicy: z.preprocess(jsonText, modulesPolicySchema).optional(),
  /** Whether modules may command devices (`opengenie:device.command`). */
  modulesCommands: z.enum(["on", "off"]).default("off"),
  /** Token-less `/driver` sessions from loopback, for stock HOS drivers that cannot send a token. */
  driversTrustLoopback: z.enum(["on", "off"]).default("off"),
  /** IANA time zone of automations' time triggers and conditions; unset = the system's. */
  timeZone: z
    .string()
    .refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin or UTC")
    .optional(),
  /** Home Assistant MQTT discovery (src/home-assistant, CONTRACT.md section 9). */
  haDiscovery: z.enum(["on", "off"]).default("on"),
  haPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "MQTT topic levels of A-Z, a-z, 0-9, '_' and '-'")
    .default("homeassistant"),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  logFormat: z.enum(["pretty", "json"]).optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;

/** What the station runs with once the data dir has given it an id and a secret. */
export type StationConfig = Omit<
  ParsedConfig,
  "stationId" | "jwtSecret" | "instanceId" | "advertiseHost" | "logFormat"
> & {
  stationId: string;
  instanceId: string;
  jwtSecret: string;
  advertiseHost: string;
  logFormat: "pretty" | "json";
};

/** Where each key comes from: flag name and environment variable. */
export const configSources: Record<keyof ConfigInput, { flag?: string; env?: string }> = {
  host: { flag: "host", env: "OPENGENIE_HOST" },
  port: { flag: "port", env: "OPENGENIE_PORT" },
  dataDir: { flag: "data-dir", env: "OPENGENIE_DATA_DIR" },
  mqttUrl: { flag: "mqtt-url", env: "OPENGENIE_MQTT_URL" },
  mqttPort: { flag: "mqtt-port", env: "OPENGENIE_MQTT_PORT" },
  databaseUrl: { flag: "database-url", env: "OPENGENIE_DATABASE_URL" },
  databasePoolMax: { env: "OPENGENIE_DATABASE_POOL_MAX" },
  advertiseHost: { flag: "advertise-host", env: "OPENGENIE_ADVERTISE_HOST" },
  stationId: { env: "OPENGENIE_STATION_ID" },
  jwtSecret: { env: "OPENGENIE_JWT_SECRET" },
  instanceId: { flag: "instance-id", env: "OPENGENIE_INSTANCE_ID" },
  remoteAccess: { env: "OPENGENIE_REMOTE_ACCESS" },
  cloudUrl: { env: "OPENGENIE_CLOUD_URL" },
  cloudClaimSecret: { env: "OPENGENIE_CLOUD_CLAIM_SECRET" },
  cloudCa: { env: "OPENGENIE_CLOUD_CA" },
  bleBridge: { env: "OPENGENIE_BLE_BRIDGE" },
  allowedHosts: { env: "OPENGENIE_ALLOWED_HOSTS" },
  modulesToken: { env: "AUTHENTICATION_TOKEN" },
  modulesPolicy: { env: "OPENGENIE_MODULES_POLICY" },
  modulesCommands: { env: "OPENGENIE_MODULES_COMMANDS" },
  driversTrustLoopback: { env: "OPENGENIE_DRIVERS_TRUST_LOOPBACK" },
  timeZone: { env: "OPENGENIE_TIMEZONE" },
  haDiscovery: { env: "OPENGENIE_HA_DISCOVERY" },
  haPrefix: { env: "OPENGENIE_HA_PREFIX" },
  logLevel: { env: "LOG_LEVEL" },
  logFormat: { env: "LOG_FORMAT" },
};
