import { deviceBrokerHost, isProcessAlive, readRunFile } from "../../config/index.ts";
import { createSystemClock } from "../../core/index.ts";
import { createIntegrationStore } from "../../home-assistant/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withDataDir } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";

export const integrationHelp = `Usage: opengenie integration add <name> [--json] [--data-dir <dir>]
       opengenie integration remove <name> [--data-dir <dir>]

Makes an MQTT login on the embedded broker for an integration such as Home Assistant and
prints it, only now: the station keeps a hash. The login may read the Home Assistant
discovery prefix and the bridge's topics (opengenie/<stationId>/...), and publish only the
bridge's command topics and <prefix>/status; it reaches no device topic. With --json:
{"host","port","username","password"}. remove deletes the login (its open connection ends
at its next reconnect). Works whether or not the station is running. See
docs/home-assistant.md.
`;

export const integrationsHelp = `Usage: opengenie integrations [--json] [--data-dir <dir>]

Lists integration logins (name, username, created). With --json: [{"name","username","createdAt"}].
`;

export async function integrationCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags("integration", args, { json: { type: "boolean" } }, true);
  if (values.help) {
    io.stdout(integrationHelp);
    return exit(0);
  }
  const [verb, name, ...extra] = positionals;
  if ((verb !== "add" && verb !== "remove") || !name || extra.length > 0)
    throw new CliError("usage: opengenie integration add|remove <name> [--json]");
  return withDataDir(io, values, async (database, config) => {
    const store = createIntegrationStore(database.db, createSystemClock());
    if (verb === "remove") {
      if (!(await store.remove(name)))
        throw new CliError(`no integration ${name}; see 'opengenie integrations'`);
      io.stdout(`removed integration ${name}\n`);
      return exit(0);
    }
    if (config.mqttUrl)
      throw new CliError(
        "integration logins are for the embedded broker; with --mqtt-url, give Home Assistant a login on that broker (docs/home-assistant.md)",
      );
    const added = await store.add(name);
    const running = readRunFile(config.dataDir, isProcessAlive);
    const login = {
      host: deviceBrokerHost(config),
      port: running?.mqttPort ?? config.mqttPort,
      username: added.username,
      password: added.password,
    };
    if (values.json) io.stdout(`${JSON.stringify(login)}\n`);
    else {
      io.stdout(
        `host: ${login.host}\nport: ${login.port}\nusername: ${login.username}\npassword: ${login.password}\n`,
      );
      io.stderr(`this is the only time the password of ${name} is shown; see docs/home-assistant.md\n`);
    }
    return exit(0);
  });
}

export async function integrationsCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("integrations", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(integrationsHelp);
    return exit(0);
  }
  return withDataDir(io, values, async (database) => {
    const list = await createIntegrationStore(database.db, createSystemClock()).list();
    if (values.json) io.stdout(`${JSON.stringify(list)}\n`);
    else if (list.length === 0)
      io.stdout("no integrations; add one with 'opengenie integration add <name>'\n");
    else
      for (const i of list) io.stdout(`${i.name}\t${i.username}\t${new Date(i.createdAt).toISOString()}\n`);
    return exit(0);
  });
}
