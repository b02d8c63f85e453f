import { VERSION } from "../version.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "./cli-io.ts";
import { automationCommand, automationsCommand } from "./commands/automation-command.ts";
import { backupCommand, restoreCommand } from "./commands/backup-command.ts";
import { deviceCommand, devicesCommand } from "./commands/device-command.ts";
import { doctorCommand } from "./commands/doctor-command.ts";
import { driverCommand, driversCommand } from "./commands/driver-command.ts";
import { integrationCommand, integrationsCommand } from "./commands/integration-command.ts";
import { pairCommand } from "./commands/pair-command.ts";
import { serveCommand } from "./commands/serve-command.ts";
import { tokenCommand } from "./commands/token-command.ts";
import { userCommand } from "./commands/user-command.ts";

export type { CliIo, CliOutcome } from "./cli-io.ts";
export { CliError } from "./cli-io.ts";

type Command = (args: string[], io: CliIo) => Promise<CliOutcome>;

const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: serveCommand, summary: "run the station (HTTP, WebSockets, MQTT, web app)" },
  user: { run: userCommand, summary: "user add <name> --role <role> --password-stdin" },
  token: { run: tokenCommand, summary: "token create --user <name> [--ttl 30d]: print a long-lived token" },
  device: { run: deviceCommand, summary: "device add --name <n> --type <t> [--json]: register a device" },
  devices: { run: devicesCommand, summary: "list devices [--json]" },
  driver: {
    run: driverCommand,
    summary: "driver token [--revoke] <driverKey> [--json]: a driver's token, shown once",
  },
  drivers: { run: driversCommand, summary: "list drivers and their devices [--json]" },
  automations: { run: automationsCommand, summary: "list automations [--json]" },
  automation: { run: automationCommand, summary: "automation run <id>: run an automation's actions now" },
  integration: {
    run: integrationCommand,
    summary: "integration add|remove <name> [--json]: MQTT login for Home Assistant",
  },
  integrations: { run: integrationsCommand, summary: "list integration logins [--json]" },
  pair: { run: pairCommand, summary: "pair a new ESP32 over Bluetooth (interactive, or --address … --json)" },
  doctor: { run: doctorCommand, summary: "check the data dir, station, ports and Bluetooth [--json]" },
  backup: { run: backupCommand, summary: "backup --out <file>: database and identity in one file" },
  restore: { run: restoreCommand, summary: "restore <file>: put a backup in place (station stopped)" },
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
