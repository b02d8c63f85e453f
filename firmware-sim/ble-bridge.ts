#!/usr/bin/env bun
/**
 * A drop-in for the station's bleak helper (CONTRACT.md section 6) with simulated, unprovisioned
 * ESP32s instead of a radio: `OPENGENIE_BLE_BRIDGE="bun firmware-sim/ble-bridge.ts"`. Speaks the
 * same stdin/stdout lines; a provisioned device boots a firmware-sim device that joins over
 * MQTT with the credentials it was given, as real firmware would. Logs go to stderr only.
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { z } from "zod";
import { type BleCommand, BleCommandSchema, ProvisioningPayloadSchema } from "../src/ble/index.ts";
import { zodErrorMessage } from "../src/core/index.ts";
import { createLogger } from "../src/logging/index.ts";
import { type DeviceType, deviceTypeSchema } from "../src/protocol/index.ts";
import { createSimulatedDevice } from "./simulated-device.ts";
import type { SimulatedDevice } from "./simulated-device-types.ts";

const HELP = `Usage: bun firmware-sim/ble-bridge.ts [--devices N] [--wifi-password P] [--mqtt-url-override URL]

Fake BLE helper for OpenGenie Station: advertises N unprovisioned simulated devices and, once
provisioned, boots each one as a simulated device that joins the station over MQTT.
  --devices <n>               how many devices advertise (default 2)
  --types <t1,t2,...>         device types, cycled (default light); names follow, e.g. OpenGenie-Light-0001
  --wifi-password <p>         devices join only when provisioned with this Wi-Fi password
  --mqtt-url-override <url>   join this broker instead of mqtt://{mqtt_host}:{mqtt_port} from the payload
  --announce-interval-ms <n>  re-announce period while scanning (default 2000)
  -h, --help                  show this help`;

const ArgsSchema = z.object({
  devices: z.coerce.number().int().min(0).max(9999).default(2),
  types: z
    .string()
    .default("light")
    .transform((s) => s.split(","))
    .pipe(z.array(deviceTypeSchema).min(1)),
  wifiPassword: z.string().optional(),
  mqttUrlOverride: z
    .string()
    .regex(/^mqtts?:\/\/\S+$/)
    .optional(),
  announceIntervalMs: z.coerce.number().int().positive().default(2_000),
});

/** Used only when start_scan names no service: real devices advertise the provisioning service. */
const FALLBACK_SERVICE_UUID = "0000ff10-0000-1000-8000-00805f9b34fb";

interface Peripheral {
  address: string;
  name: string;
  type: DeviceType;
  baseRssi: number;
  phase: "advertising" | "joining" | "joined";
  device?: SimulatedDevice;
}

function peripherals(count: number, types: DeviceType[]): Peripheral[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const type = types[i % types.length]!;
    const hex = (v: number) => v.toString(16).toUpperCase().padStart(2, "0");
    return {
      address: `AA:BB:CC:00:${hex(n >> 8)}:${hex(n & 0xff)}`,
      name: `OpenGenie-${type[0]!.toUpperCase()}${type.slice(1)}-${String(n).padStart(4, "0")}`,
      type,
      baseRssi: -50 - ((i * 7) % 20),
      phase: "advertising" as const,
    };
  });
}

/** Throws with a one-line message naming the bad flag. */
function parseBridgeArgs(argv: string[]): z.infer<typeof ArgsSchema> | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: "string" },
      types: { type: "string" },
      "wifi-password": { type: "string" },
      "mqtt-url-override": { type: "string" },
      "announce-interval-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const parsed = ArgsSchema.safeParse({
    devices: values.devices,
    types: values.types,
    wifiPassword: values["wifi-password"],
    mqttUrlOverride: values["mqtt-url-override"],
    announceIntervalMs: values["announce-interval-ms"],
  });
  if (parsed.success) return parsed.data;
  const flag = (path: string) => `--${path.split(".")[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  throw new Error(zodErrorMessage(parsed.error, "flags", flag));
}

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseBridgeArgs>;
  try {
    args = parseBridgeArgs(argv);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}; see --help\n`);
    return 1;
  }
  if (args === "help") {
    process.stderr.write(`${HELP}\n`);
    return 0;
  }
  const log = createLogger({ level: "info", format: process.stderr.isTTY ? "pretty" : "json" }).child({
    component: "fake-ble-bridge",
  });
  const { wifiPassword, mqttUrlOverride, announceIntervalMs } = args;
  const devices = peripherals(args.devices, args.types);
  const send = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);
  let serviceUuid = FALLBACK_SERVICE_UUID;
  let announcer: ReturnType<typeof setInterval> | undefined;

  const announce = () => {
    for (const p of devices.filter((d) => d.phase === "advertising")) {
      const rssi = Math.max(-75, Math.min(-45, p.baseRssi + Math.round((Math.random() - 0.5) * 6)));
      send({
        type: "discovered",
        address: p.address,
        name: p.name,
        rssi,
        service_uuids: [serviceUuid],
        service_data: {},
      });
    }
  };

  const join = (p: Peripheral, raw: unknown) => {
    const payload = ProvisioningPayloadSchema.safeParse(typeof raw === "string" ? safeJson(raw) : raw);
    if (!payload.success)
      return log.warn("rejected provisioning payload", {
        device: p.name,
        reason: zodErrorMessage(payload.error, "payload"),
      });
    const creds = payload.data;
    if (wifiPassword !== undefined && creds.password !== wifiPassword) {
      return log.warn("Wi-Fi join failed: wrong password; still advertising", {
        device: p.name,
        ssid: creds.ssid,
      });
    }
    const host = creds.mqtt_host.includes(":") ? `[${creds.mqtt_host}]` : creds.mqtt_host;
    const url = mqttUrlOverride ?? `mqtt://${host}:${creds.mqtt_port}`;
    p.phase = "joining"; // a provisioned ESP32 stops advertising and joins Wi-Fi, then MQTT
    const device = createSimulatedDevice({
      url,
      stationId: creds.station_id,
      deviceId: creds.device_id,
      token: creds.device_token,
      type: p.type,
      startTimeoutMs: 60_000,
      logger: log.child({ device: p.name }),
    });
    p.device = device;
    log.info("provisioned; joining", { device: p.name, deviceId: creds.device_id, url });
    device.start().then(
      () => {
        p.phase = "joined";
        log.info("joined the station", { device: p.name, deviceId: creds.device_id });
      },
      (error: Error) => {
        p.phase = "advertising"; // back to provisioning mode, as the firmware does
        p.device = undefined;
        log.warn("could not join; advertising again", { device: p.name, reason: error.message });
      },
    );
  };

  const handle = (command: BleCommand) => {
    if (command.type === "start_scan") {
      serviceUuid = command.service_uuid ?? FALLBACK_SERVICE_UUID;
      clearInterval(announcer);
      send({ type: "scan_started" });
      announce();
      announcer = setInterval(announce, announceIntervalMs);
    } else if (command.type === "stop_scan") {
      clearInterval(announcer);
      announcer = undefined;
      send({ type: "scan_stopped" });
    } else {
      // Connecting and writing over the air takes a moment on real hardware. The lookup waits
      // too, so two writes racing for one device provision it once.
      setTimeout(() => {
        const target = devices.find((d) => d.address === command.address && d.phase === "advertising");
        if (!target)
          return send({
            type: "write_result",
            address: command.address,
            ok: false,
            error: "device not found",
          });
        send({ type: "write_result", address: command.address, ok: true });
        join(target, command.payload);
      }, 50);
    }
  };

  const stopped = new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (line) => {
      if (!line.trim()) return;
      const parsed = BleCommandSchema.safeParse(safeJson(line));
      if (parsed.success) return handle(parsed.data);
      log.warn("bad command line", { line: line.slice(0, 200) });
      send({ type: "error", code: "INTERNAL", message: `bad command: ${line.slice(0, 200)}` });
    });
    rl.on("close", () => resolve()); // EOF: the station went away
    process.on("SIGTERM", () => resolve());
    process.on("SIGINT", () => resolve());
    process.stdout.on("error", () => resolve()); // EPIPE once the station is gone
  });
  send({ type: "ready" });
  log.info("advertising", { devices: devices.map((d) => `${d.name} ${d.address}`) });
  await stopped;
  clearInterval(announcer);
  // Not graceful: the devices lose power with the bridge, so the broker sends their last will.
  const stops = devices.flatMap((d) => (d.device ? [d.device.stop({ graceful: false })] : []));
  await Promise.race([Promise.allSettled(stops), Bun.sleep(2_000)]);
  return 0;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

process.exit(await main(process.argv.slice(2)));
