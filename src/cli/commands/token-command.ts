import { parseDuration } from "../../core/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withOfflineAuth } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";

export const tokenHelp = `Usage: opengenie token create --user <name> [--ttl 30d] [--data-dir <dir>]

Prints a long-lived access token for <name>, one line, for scripts and apps
(Authorization: Bearer <token>). --ttl takes s, m, h, d or w (default 30d).
Revoke it with POST /api/auth/logout using the token.
`;

export async function tokenCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags(
    "token",
    args,
    { user: { type: "string" }, ttl: { type: "string" }, label: { type: "string" } },
    true,
  );
  if (values.help) {
    io.stdout(tokenHelp);
    return exit(0);
  }
  if (positionals[0] !== "create" || positionals.length !== 1) {
    throw new CliError("usage: opengenie token create --user <name> [--ttl 30d]");
  }
  if (!values.user) throw new CliError("--user <name> is required; see 'opengenie token --help'");
  const ttlMs = parseDuration(values.ttl ?? "30d");
  if (!ttlMs) throw new CliError(`--ttl ${values.ttl} is not a duration like 30d, 12h or 90m`);
  await withOfflineAuth(io, values, async (auth) => {
    const { accessToken } = await auth.createLongLivedToken(values.user!, ttlMs, values.label ?? "cli");
    io.stdout(`${accessToken}\n`);
  });
  return exit(0);
}
