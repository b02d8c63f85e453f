import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./cli-io.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The flags every subcommand takes. */
export const commonOptions = {
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** parseArgs with the station's error wording: one line naming the problem and where to look. */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options: { ...commonOptions, ...options }, strict: true, allowPositionals });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new CliError(`${message}; see 'opengenie ${command} --help'`);
  }
}
