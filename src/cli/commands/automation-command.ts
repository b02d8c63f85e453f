import { createAutomationStore } from "../../automations/index.ts";
import { isProcessAlive, readRunFile } from "../../config/index.ts";
import { type Automation, automationListSchema, automationRunStartedSchema } from "../../protocol/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withDataDir } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";
import { localCliToken } from "./device-command.ts";
import { callStation } from "./driver-command.ts";

export const automationsHelp = `Usage: opengenie automations [--json] [--data-dir <dir>]

Lists the automations: id, name, whether enabled (or why the station suspended one), mode,
and how many triggers and actions each has. With --json: the body of GET /api/automations.
Works whether or not the station is running.
`;

export const automationHelp = `Usage: opengenie automation run <id> [--json] [--data-dir <dir>]

Runs an automation's actions now on the running station (its conditions are skipped, its mode
applies); prints whether the run started, was queued or was skipped. With --json: the body of
POST /api/automations/<id>/run. See docs/automations.md.
`;

function formatAutomations(list: Automation[]): string {
  if (list.length === 0)
    return "no automations yet; create one with POST /api/automations (docs/automations.md)\n";
  const table = [["ID", "NAME", "ENABLED", "MODE", "TRIGGERS", "ACTIONS"]];
  for (const a of list) {
    const enabled = a.enabled ? "yes" : a.suspendedReason ? `suspended: ${a.suspendedReason}` : "no";
    table.push([a.id, a.name, enabled, a.mode, String(a.triggers.length), String(a.actions.length)]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return `${table
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

export async function automationsCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("automations", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(automationsHelp);
    return exit(0);
  }
  const automations = await withDataDir(io, values, async (database, config) => {
    const running = readRunFile(config.dataDir, isProcessAlive);
    if (running) {
      const token = await localCliToken(io, database, config);
      return (await callStation(running, token, "GET", "/api/automations", automationListSchema)).automations;
    }
    return (await createAutomationStore(database.db).all()).map(({ lastFired: _l, ...a }) => a);
  });
  io.stdout(values.json ? `${JSON.stringify({ automations })}\n` : formatAutomations(automations));
  return exit(0);
}

export async function automationCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags("automation", args, { json: { type: "boolean" } }, true);
  if (values.help) {
    io.stdout(automationHelp);
    return exit(0);
  }
  const [verb, id] = positionals;
  if (verb !== "run" || !id || positionals.length !== 2)
    throw new CliError("usage: opengenie automation run <id>");
  const started = await withDataDir(io, values, async (database, config) => {
    const running = readRunFile(config.dataDir, isProcessAlive);
    if (!running) throw new CliError("the station is not running; start it with 'opengenie serve'");
    const token = await localCliToken(io, database, config);
    const path = `/api/automations/${encodeURIComponent(id)}/run`;
    return callStation(running, token, "POST", path, automationRunStartedSchema);
  });
  io.stdout(
    values.json
      ? `${JSON.stringify(started)}\n`
      : `${started.status === "started" ? `started run ${started.runId}` : started.status === "queued" ? "queued behind the run in progress" : "skipped: a run is in progress (mode single)"}\n`,
  );
  return exit(0);
}
