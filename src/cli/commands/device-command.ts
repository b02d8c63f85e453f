import { createAuthService } from "../../auth/index.ts";
import {
  deviceBrokerHost,
  isProcessAlive,
  type RunInfo,
  readRunFile,
  type StationConfig,
} from "../../config/index.ts";
import { createEventBus, createSystemClock, type StationEvents } from "../../core/index.ts";
import { createDeviceService, summarize } from "../../devices/index.ts";
import { createLogger } from "../../logging/index.ts";
import { parseMqttUrl } from "../../mqtt/index.ts";
import { type CreatedDevice, createdDeviceSchema, errorBodySchema } from "../../protocol/index.ts";
import type { StationDatabase } from "../../storage/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withDataDir } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";

export const deviceHelp = `Usage: opengenie device add --name <name> --type <type> [--json] [--data-dir <dir>]

Registers a device and prints its MQTT credentials (the password is shown only now).
Types: light, switch, sensor, pir, climate. With --json the output is exactly the body of
POST /api/devices. Works whether or not the station is running: a running station adds the
device itself (apps see it at once); otherwise the data dir is written directly.
`;

export const devicesHelp = `Usage: opengenie devices [--json] [--data-dir <dir>]

Lists the registered devices with their last known state.
`;

/** The host and port devices are told to reach: the running station's port, else the configuration's. */
function brokerAddress(config: StationConfig): { host: string; port: number } {
  const running = readRunFile(config.dataDir, isProcessAlive);
  if (running) {
    const { host, port } = parseMqttUrl(running.mqttUrl);
    return { host, port };
  }
  return {
    host: deviceBrokerHost(config),
    port: config.mqttUrl ? parseMqttUrl(config.mqttUrl).port : config.mqttPort,
  };
}

/** A one-minute admin token for the running station, signed with the data dir's secret. */
export async function localCliToken(io: CliIo, database: StationDatabase, config: StationConfig) {
  return createAuthService({
    db: database.db,
    platform: io.platform,
    clock: createSystemClock(),
    jwtSecret: config.jwtSecret,
  }).issueLocalCliToken();
}

/** `POST /api/devices` on the running station; its refusals become the CLI's one error line. */
async function createThroughStation(
  station: RunInfo,
  token: string,
  name: string,
  type: string,
): Promise<CreatedDevice> {
  let res: Response;
  try {
    res = await fetch(`${station.httpUrl}/api/devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name, type }),
    });
  } catch (err) {
    throw new CliError(
      `the station (pid ${station.pid}) does not answer at ${station.httpUrl}: ${(err as Error).message}; check 'opengenie doctor'`,
    );
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (res.status === 201) {
    const created = createdDeviceSchema.safeParse(json);
    if (created.success) return created.data;
  }
  const error = errorBodySchema.safeParse(json);
  throw new CliError(error.success ? error.data.error.message : `the station answered ${res.status}`);
}

function offlineDevices(database: StationDatabase) {
  const bus = createEventBus<StationEvents>(() => {});
  const logger = createLogger({ level: "error", format: "json" });
  return createDeviceService({
    db: database.db,
    runBatch: database.runBatch,
    dialect: database.dialect,
    clock: createSystemClock(),
    bus,
    logger,
  });
}

export async function deviceCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags(
    "device",
    args,
    { name: { type: "string" }, type: { type: "string" }, json: { type: "boolean" } },
    true,
  );
  if (values.help) {
    io.stdout(deviceHelp);
    return exit(0);
  }
  if (positionals[0] !== "add" || positionals.length !== 1) {
    throw new CliError("usage: opengenie device add --name <name> --type <type> [--json]");
  }
  if (!values.name?.trim()) throw new CliError("--name <name> is required");
  if (!values.type) throw new CliError("--type <type> is required (light, switch, sensor, pir, climate)");
  const name = values.name.trim();
  const type = values.type;
  const created = await withDataDir(io, values, async (database, config): Promise<CreatedDevice> => {
    // One writer of the registry: a running station adds the device itself and tells every app.
    const running = readRunFile(config.dataDir, isProcessAlive);
    if (running) return createThroughStation(running, await localCliToken(io, database, config), name, type);
    const devices = offlineDevices(database);
    const { device, token } = await devices.registry.create({ name, type });
    const broker = brokerAddress(config);
    return {
      device: summarize(device),
      credentials: {
        stationId: config.stationId,
        deviceId: device.id,
        mqttHost: broker.host,
        mqttPort: broker.port,
        mqttUsername: device.id,
        mqttPassword: token!,
      },
    };
  });
  if (values.json) {
    io.stdout(`${JSON.stringify(created)}\n`);
    return exit(0);
  }
  const { device, credentials } = created;
  io.stdout(
    [
      `created ${device.type} "${device.name}" with id ${device.id}`,
      "MQTT credentials (the password is shown only now):",
      `  host      ${credentials.mqttHost}`,
      `  port      ${credentials.mqttPort}`,
      `  username  ${credentials.mqttUsername}`,
      `  password  ${credentials.mqttPassword}`,
      `  topics    station/${credentials.stationId}/device/${device.id}/<suffix>`,
      "",
    ].join("\n"),
  );
  return exit(0);
}

export async function devicesCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("devices", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(devicesHelp);
    return exit(0);
  }
  await withDataDir(io, values, async (database) => {
    const devices = offlineDevices(database);
    await devices.registry.load();
    const list = (await devices.registry.list()).map(summarize);
    // Presence lives in the running station; the file holds what it last wrote.
    const rows = await database.db.selectFrom("devices").select(["id", "online"]).execute();
    const online = new Map(rows.map((r) => [r.id, r.online === 1]));
    for (const d of list) d.online = online.get(d.id) ?? false;
    if (values.json) {
      io.stdout(`${JSON.stringify({ devices: list })}\n`);
      return;
    }
    if (list.length === 0) {
      io.stdout(
        "no devices yet; add one with 'opengenie device add --name <n> --type <t>' or 'opengenie pair'\n",
      );
      return;
    }
    const table = [["ID", "NAME", "TYPE", "ONLINE", "LAST SEEN", "STATE"]];
    for (const d of list) {
      table.push([
        d.id,
        d.name,
        d.type,
        d.online ? "yes" : "no",
        d.lastSeen ? new Date(d.lastSeen).toISOString().slice(0, 19).replace("T", " ") : "never",
        JSON.stringify(d.state),
      ]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    io.stdout(
      `${table
        .map((r) =>
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd(),
        )
        .join("\n")}\n`,
    );
  });
  return exit(0);
}
