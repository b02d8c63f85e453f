import { roleSchema } from "../../auth/index.ts";
import { removeSetupCode } from "../../setup/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { withOfflineAuth } from "../offline-database.ts";
import { parseFlags } from "../parse-flags.ts";

export const userHelp = `Usage: opengenie user add <name> --role owner|admin|member|guest --password-stdin [--data-dir <dir>]

Creates a user in the data dir's database; works whether or not the station is running.
The password is read from standard input (one line), e.g.
  printf '%s\\n' "$PASSWORD" | opengenie user add alice --role owner --password-stdin
`;

export async function userCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values, positionals } = parseFlags(
    "user",
    args,
    { role: { type: "string" }, "password-stdin": { type: "boolean" } },
    true,
  );
  if (values.help) {
    io.stdout(userHelp);
    return exit(0);
  }
  const [action, name, ...rest] = positionals;
  if (action !== "add")
    throw new CliError(`unknown user action ${action ?? "(none)"}; see 'opengenie user --help'`);
  if (!name || rest.length)
    throw new CliError("user add takes exactly one name; see 'opengenie user --help'");
  const role = roleSchema.safeParse(values.role);
  if (!role.success) throw new CliError("--role must be one of owner, admin, member, guest");
  if (!values["password-stdin"]) {
    throw new CliError(
      "pass the password on standard input with --password-stdin (it never goes on the command line)",
    );
  }
  // The first line only: a password never contains a newline, and what follows is not ours.
  const password = (await io.readStdin()).split(/\r?\n/, 1)[0] ?? "";
  await withOfflineAuth(io, values, async (auth, _database, config) => {
    const user = await auth.createUser(name, password, role.data);
    // A user exists now: the first-run setup code can create no one, so it goes (issue 15).
    removeSetupCode(config.dataDir);
    io.stdout(`created user ${user.username} (${user.role}) id ${user.id}\n`);
  });
  return exit(0);
}
