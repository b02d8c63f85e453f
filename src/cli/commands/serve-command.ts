import { ConfigError, completeConfig, configSources, loadConfig, webUrl } from "../../config/index.ts";
import { createLogger } from "../../logging/index.ts";
import { readSetupCode, setupCodePath, setupUrl } from "../../setup/index.ts";
import { createStation } from "../../station.ts";
import { CliError, type CliIo, type CliOutcome } from "../cli-io.ts";
import { parseFlags } from "../parse-flags.ts";

export const serveHelp = `Usage: opengenie serve [options]

Runs the station: HTTP API, WebSockets and web app on one port, and the MQTT broker.

Options:
  --host <addr>            address to listen on (OPENGENIE_HOST, default 0.0.0.0)
  --port <n>               HTTP port, 0 = any free port (OPENGENIE_PORT, default 8080)
  --data-dir <dir>         data directory (OPENGENIE_DATA_DIR, default $XDG_DATA_HOME/opengenie)
  --mqtt-url <url>         use an external broker instead of the embedded one (OPENGENIE_MQTT_URL)
  --database-url <url>     store in PostgreSQL, postgres://… (OPENGENIE_DATABASE_URL, default SQLite in the data dir)
  --mqtt-port <n>          embedded broker port, 0 = any free port (OPENGENIE_MQTT_PORT, default 1883)
  --advertise-host <host>  host devices are told to reach (OPENGENIE_ADVERTISE_HOST, default LAN IPv4)
  -h, --help               show this help
`;

const flagNames = Object.values(configSources)
  .map((s) => s.flag)
  .filter((f): f is string => f !== undefined && f !== "data-dir");

export async function serveCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const options = Object.fromEntries(flagNames.map((f) => [f, { type: "string" as const }]));
  const { values } = parseFlags("serve", args, options);
  if (values.help) {
    io.stdout(serveHelp);
    return { kind: "exit", code: 0 };
  }
  let config: ReturnType<typeof completeConfig>;
  try {
    config = completeConfig(loadConfig({ flags: values as Record<string, string>, env: io.env }), io.isTTY);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const station = createStation(config, io.platform, { logger, pid: process.pid });
  try {
    const info = await station.start();
    const bound = config.host.includes(":") ? `[${config.host}]` : config.host;
    // First run: the station made a one-time code; only with it can the owner account be made.
    const code = readSetupCode(config.dataDir);
    const firstRun = code
      ? `first run: create the owner account at ${setupUrl(webUrl(config, info.httpPort), code)}\n` +
        `(one-time setup code ${code}, also in ${setupCodePath(config.dataDir)})\n`
      : "";
    // The bind address, then what to open: 0.0.0.0 is not an address anyone can browse to. One
    // write: a supervisor that stops reading after "listening" must not make a second one fail.
    io.stdout(
      `opengenie ${info.version} listening on ${bound}:${info.httpPort} (station ${info.stationId}, mqtt ${info.mqttUrl}, data ${config.dataDir})\n` +
        `open ${webUrl(config, info.httpPort)} on a phone or computer on this network\n${firstRun}`,
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  return { kind: "running", stop: () => station.stop(), exitRequested: station.exitRequested };
}
