/** Flags of `bun firmware-sim/cli.ts`: parsed by node:util, then validated by zod (STYLE.md). */
import { parseArgs } from "node:util";
import { z } from "zod";
import { zodErrorMessage, zodIssues } from "../src/core/index.ts";
import { deviceTypeSchema, deviceTypes } from "../src/protocol/index.ts";

export const HELP = `Usage:
  bun firmware-sim/cli.ts --url mqtt://host:1883 --station-id <id> --device-id <id> --token <secret> --type <type>
  bun firmware-sim/cli.ts --transport ws --ws-url ws://host:8080 --device-id <id> --token <secret> --type <type>
  bun firmware-sim/cli.ts --fleet <N> --api http://host:8080 --api-token <bearer> [--type light] [--url mqtt://...]

A simulated ESP32 speaking the OpenGenie device protocol (handshake, state, heartbeats,
commands) over MQTT (with a last will) or over the station's /ws/iot WebSocket.
Stops gracefully on SIGINT/SIGTERM.

One device:
  --transport mqtt|ws        how the device reaches the station (default mqtt)
  --url <mqtt-url>           broker, e.g. mqtt://127.0.0.1:1883 (mqtt)
  --station-id <id>          station id (topics station/<id>/device/<deviceId>/...) (mqtt)
  --ws-url <ws-url>          station address, e.g. ws://127.0.0.1:8080; /ws/iot is added (ws)
  --device-id <id>           device id, also the MQTT username and client id
  --token <secret>           the device's token (its MQTT password)
  --client-id-suffix <s>     connect as <deviceId>-<s> (a second connection) (mqtt)

Fleet (registers devices through POST /api/devices, needs an admin token):
  --fleet <N>                number of devices to create and boot
  --api <http-url>           station HTTP address, e.g. http://127.0.0.1:8080
  --api-token <bearer>       access token (opengenie token create --user <admin>)
  --url <mqtt-url>           override the broker address the station hands out
  --transport mqtt|ws        default mqtt; ws boots every device over /ws/iot
  --ws-url <ws-url>          with --transport ws (default: derived from --api)
  --concurrency <n>          boots in flight at once (default 10)
  --name-prefix <p>          device names <p>-1..<p>-N (default sim-<type>)
  --delete-on-stop           delete the created devices when stopping

Both:
  --type <type>              ${deviceTypes.join(" | ")} (default light)
  --heartbeat-sec <s>        heartbeat interval (default 30)
  --sensor-interval-ms <ms>  sensor/PIR/climate reading interval (default 10000)
  --firmware-version <v>     reported in the handshake (default sim-1.0.0)
  --verbose                  log protocol details to stderr
  -h, --help                 show this help
`;

const positiveInt = z.coerce.number().int().positive();
const mqttUrl = z.string().regex(/^mqtts?:\/\/[^\s]+$/, "must look like mqtt://host:port");
const wsUrl = z.string().regex(/^wss?:\/\/[^\s]+$/, "must look like ws://host:port");
const transport = z.enum(["mqtt", "ws"]).default("mqtt");

const common = {
  type: deviceTypeSchema.default("light"),
  heartbeatSec: positiveInt.optional(),
  sensorIntervalMs: positiveInt.optional(),
  firmwareVersion: z.string().min(1).optional(),
  verbose: z.boolean().default(false),
};

const SingleSchema = z
  .object({
    mode: z.literal("single"),
    transport,
    url: mqttUrl.optional(),
    stationId: z.string().min(1).optional(),
    wsUrl: wsUrl.optional(),
    deviceId: z.string().min(1),
    token: z.string().min(1),
    clientIdSuffix: z.string().min(1).optional(),
    ...common,
  })
  .superRefine((args, ctx) => {
    // Each transport has its own required address flags.
    const required = args.transport === "ws" ? (["wsUrl"] as const) : (["url", "stationId"] as const);
    for (const key of required) {
      if (args[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "required" });
    }
  });

const FleetSchema = z.object({
  mode: z.literal("fleet"),
  fleet: positiveInt,
  api: z.url({ protocol: /^https?$/ }),
  apiToken: z.string().min(1),
  url: mqttUrl.optional(),
  transport,
  wsUrl: wsUrl.optional(),
  concurrency: positiveInt.default(10),
  namePrefix: z.string().min(1).optional(),
  deleteOnStop: z.boolean().default(false),
  ...common,
});

export const CliArgsSchema = z.discriminatedUnion("mode", [SingleSchema, FleetSchema]);
export type CliArgs = z.infer<typeof CliArgsSchema> | { mode: "help" };

const flagSpec = {
  url: { type: "string" },
  transport: { type: "string" },
  "ws-url": { type: "string" },
  "station-id": { type: "string" },
  "device-id": { type: "string" },
  token: { type: "string" },
  "client-id-suffix": { type: "string" },
  type: { type: "string" },
  "heartbeat-sec": { type: "string" },
  "sensor-interval-ms": { type: "string" },
  "firmware-version": { type: "string" },
  fleet: { type: "string" },
  api: { type: "string" },
  "api-token": { type: "string" },
  concurrency: { type: "string" },
  "name-prefix": { type: "string" },
  "delete-on-stop": { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Throws an Error whose message is one line naming the bad flag. */
export function parseCliArgs(argv: string[]): CliArgs {
  const { values } = parseArgs({ args: argv, options: flagSpec, strict: true, allowPositionals: false });
  if (values.help) return { mode: "help" };
  const input: Record<string, unknown> = { mode: values.fleet === undefined ? "single" : "fleet" };
  for (const [flag, value] of Object.entries(values)) input[camel(flag)] = value;
  const parsed = CliArgsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const flag = (path: string) => `--${path.split(".")[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const key = zodIssues(parsed.error)[0]?.path.split(".")[0];
  if (key && input[key] === undefined) throw new Error(`${flag(key)} is required`);
  throw new Error(zodErrorMessage(parsed.error, "flags", flag));
}
