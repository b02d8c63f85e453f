import type { z } from "zod";
import { isProcessAlive, type RunInfo, readRunFile } from "../../config/index.ts";
import { createSystemClock } from "../../core/index.ts";
import { createDriverTokens, listDrivers } from "../../drivers/index.ts";
import {
  DRIVER_KEY_RULE,
  type DriverInfo,
  type DriverRevoked,
  type DriverToken,
  driverKeySchema,
  driverListSchema,
  driverRevokedSchema,
  driverTokenSchema,
  errorBodySchema,
} from "../../protocol/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withDataDir } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";
import { localCliToken } from "./device-command.ts";

export const driverHelp = `Usage: opengenie driver token <driverKey> [--json] [--data-dir <dir>]
       opengenie driver token --revoke <driverKey> [--json] [--data-dir <dir>]

Makes the token a driver uses to connect to /driver (?token=<token> or
Authorization: Bearer <token>) and prints it, only now: the station keeps a hash. The
token is bound to this driverKey ([A-Z0-9_], 2-64 chars): a driver holding it can register
no other. A new token replaces the previous one, whose sessions close. --revoke deletes
the token and closes its sessions at once. Works whether or not the station is running.
With --json: {"driverKey","token","createdAt"}, or {"driverKey","revoked","closedSessions"}.
`;

export const driversHelp = `Usage: opengenie drivers [--json] [--data-dir <dir>]

Lists the drivers the station knows (a token, a device or a live session) with their
devices. With --json, the body of GET /api/drivers.
`;

/** A request to the running station with a one-minute CLI token; its refusals become one error line. */
export async function callStation<T>(
  station: RunInfo,
  token: string,
  method: string,
  path: string,
  schema: z.ZodType<T>,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${station.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new CliError(
      `the station (pid ${station.pid}) does not answer at ${station.httpUrl}: ${(err as Error).message}; check 'opengenie doctor'`,
    );
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (res.ok) {
    const body = schema.safeParse(json);
    if (body.success) return body.data;
  }
  const error = errorBodySchema.safeParse(json);
  throw new CliError(error.success ? error.data.error.message : `the station answered ${res.status}`);
}

function parseDriverKey(value: string): string {
  if (driverKeySchema.safeParse(value).success) return value;
  const upper = value.toUpperCase().replaceAll("-", "_");
  const hint = driverKeySchema.safeParse(upper).success ? ` (did you mean ${upper}?)` : "";
  throw new CliError(`${DRIVER_KEY_RULE.replace(/\.$/, "")}; got '${value}'${hint}`);
}

export async function driverCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags(
    "driver",
    args,
    { revoke: { type: "boolean" }, json: { type: "boolean" } },
    true,
  );
  if (values.help) {
    io.stdout(driverHelp);
    return exit(0);
  }
  if (positionals[0] !== "token" || positionals.length !== 2) {
    throw new CliError("usage: opengenie driver token [--revoke] <driverKey> [--json]");
  }
  const driverKey = parseDriverKey(positionals[1]!);
  const path = `/api/drivers/${driverKey}/token`;
  const result = await withDataDir(io, values, async (database, config) => {
    // A running station makes the change itself, so it can close the sessions at once.
    const running = readRunFile(config.dataDir, isProcessAlive);
    const tokens = createDriverTokens(database.db, createSystemClock());
    if (values.revoke) {
      if (running)
        return callStation(
          running,
          await localCliToken(io, database, config),
          "DELETE",
          path,
          driverRevokedSchema,
        );
      return {
        driverKey,
        revoked: await tokens.revoke(driverKey),
        closedSessions: 0,
      } satisfies DriverRevoked;
    }
    if (running)
      return callStation(running, await localCliToken(io, database, config), "POST", path, driverTokenSchema);
    return tokens.issue(driverKey);
  });
  if (values.json) {
    io.stdout(`${JSON.stringify(result)}\n`);
    return exit(0);
  }
  if ("token" in result) {
    // stdout holds only the token, so TOKEN=$(opengenie driver token X) works.
    io.stdout(`${(result as DriverToken).token}\n`);
    io.stderr(
      `this is the only time the token of ${driverKey} is shown; a driver sends it as ?token=<token> or Authorization: Bearer <token>\n`,
    );
    return exit(0);
  }
  const revoked = result as DriverRevoked;
  io.stdout(
    revoked.revoked
      ? `revoked the token of ${driverKey}; closed ${revoked.closedSessions} session${revoked.closedSessions === 1 ? "" : "s"}\n`
      : `${driverKey} had no token\n`,
  );
  return exit(0);
}

function formatDrivers(drivers: DriverInfo[]): string {
  if (drivers.length === 0)
    return "no drivers yet; make a token with 'opengenie driver token <driverKey>' and start the driver\n";
  const lines: string[] = [];
  for (const d of drivers) {
    const token = d.tokenCreatedAt
      ? `token since ${new Date(d.tokenCreatedAt).toISOString().slice(0, 19).replace("T", " ")}`
      : "no token";
    const sessions = d.sessions.length
      ? d.sessions.map((s) => `${s.instanceId} from ${s.remoteAddress}`).join(", ")
      : "not connected";
    lines.push(`${d.driverKey}  ${token}; ${sessions}`);
    const table = [["  ID", "NAME", "TYPE", "ONLINE", "DRIVER'S ID"]];
    for (const dev of d.devices)
      table.push([`  ${dev.id}`, dev.name, dev.type, dev.online ? "yes" : "no", dev.deviceId]);
    if (table.length === 1) continue;
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table)
      lines.push(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      );
  }
  return `${lines.join("\n")}\n`;
}

export async function driversCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("drivers", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(driversHelp);
    return exit(0);
  }
  const drivers = await withDataDir(io, values, async (database, config) => {
    const running = readRunFile(config.dataDir, isProcessAlive);
    if (running) {
      const token = await localCliToken(io, database, config);
      return (await callStation(running, token, "GET", "/api/drivers", driverListSchema)).drivers;
    }
    return listDrivers(database.db);
  });
  io.stdout(values.json ? `${JSON.stringify({ drivers })}\n` : formatDrivers(drivers));
  return exit(0);
}
