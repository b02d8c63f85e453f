import { VERSION } from "../version.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "./cli-io.ts";

export type { CliIo, CliOutcome } from "./cli-io.ts";
export { CliError } from "./cli-io.ts";

type Command = (args: string[], io: CliIo) => Promise<CliOutcome>;

/**
 * A subcommand's module is loaded when it runs: `serve` does not pay for the other commands'
 * imports (the doctor's MQTT.js, the pairing flow, backups) at every start (issue 17).
 */
function lazy<K extends string>(load: () => Promise<Record<K, Command>>, name: K): Command {
  return async (args, io) => (await load())[name](args, io);
}

const commands: Record<string, { run: Command; summary: string }> = {
  serve: {
    run: lazy(() => import("./commands/serve-command.ts"), "serveCommand"),
    summary: "run the station (HTTP, WebSockets, MQTT, web app)",
  },
  user: {
    run: lazy(() => import("./commands/user-command.ts"), "userCommand"),
    summary: "user add <name> --role <role> --password-stdin",
  },
  token: {
    run: lazy(() => import("./commands/token-command.ts"), "tokenCommand"),
    summary: "token create --user <name> [--ttl 30d]: print a long-lived token",
  },
  device: {
    run: lazy(() => import("./commands/device-command.ts"), "deviceCommand"),
    summary: "device add --name <n> --type <t> [--json]: register a device",
  },
  devices: {
    run: lazy(() => import("./commands/device-command.ts"), "devicesCommand"),
    summary: "list devices [--json]",
  },
  driver: {
    run: lazy(() => import("./commands/driver-command.ts"), "driverCommand"),
    summary: "driver token [--revoke] <driverKey> [--json]: a driver's token, shown once",
  },
  drivers: {
    run: lazy(() => import("./commands/driver-command.ts"), "driversCommand"),
    summary: "list drivers and their devices [--json]",
  },
  automations: {
    run: lazy(() => import("./commands/automation-command.ts"), "automationsCommand"),
    summary: "list automations [--json]",
  },
  automation: {
    run: lazy(() => import("./commands/automation-command.ts"), "automationCommand"),
    summary: "automation run <id>: run an automation's actions now",
  },
  integration: {
    run: lazy(() => import("./commands/integration-command.ts"), "integrationCommand"),
    summary: "integration add|remove <name> [--json]: MQTT login for Home Assistant",
  },
  integrations: {
    run: lazy(() => import("./commands/integration-command.ts"), "integrationsCommand"),
    summary: "list integration logins [--json]",
  },
  pair: {
    run: lazy(() => import("./commands/pair-command.ts"), "pairCommand"),
    summary: "pair a new ESP32 over Bluetooth (interactive, or --address … --json)",
  },
  doctor: {
    run: lazy(() => import("./commands/doctor-command.ts"), "doctorCommand"),
    summary: "check the data dir, station, ports and Bluetooth [--json]",
  },
  backup: {
    run: lazy(() => import("./commands/backup-command.ts"), "backupCommand"),
    summary: "backup --out <file>: database and identity in one file",
  },
  restore: {
    run: lazy(() => import("./commands/backup-command.ts"), "restoreCommand"),
    summary: "restore <file>: put a backup in place (station stopped)",
  },
  version: {
    run: async (args, io) => {
      if (args.includes("--help") || args.includes("-h"))
        io.stdout("Usage: opengenie version\n\nPrints the version.\n");
      else io.stdout(`${VERSION}\n`);
      return exit(0);
    },
    summary: "print the version",
  },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `OpenGenie Station ${VERSION}: a local-first smart-home hub.

Usage: opengenie <command> [options]

Commands:
${lines.join("\n")}

Every command takes --data-dir <dir> (or OPENGENIE_DATA_DIR) and --help.
`;
}

/** argv (without the program) → the subcommand's outcome. Never exits the process itself. */
export async function runCli(argv: string[], io: CliIo): Promise<CliOutcome> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(mainHelp());
    return exit(name ? 0 : 1);
  }
  if (name === "--version" || name === "-v") return commands.version!.run([], io);
  const command = commands[name];
  if (!command) {
    io.stderr(`error: unknown command '${name}'; see 'opengenie --help'\n`);
    return exit(1);
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`error: ${err.message}\n`);
      return exit(1);
    }
    throw err;
  }
}
