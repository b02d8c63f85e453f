/** Which program is the BLE helper: the embedded script under python3, or OPENGENIE_BLE_BRIDGE. */
import { StationError } from "../core/index.ts";

export const DEFAULT_PYTHON = "/usr/bin/python3";

export function defaultBridgeCommand(scriptPath: string): string[] {
  return [DEFAULT_PYTHON, scriptPath];
}

/**
 * Splits a command line into argv the way a POSIX shell would for the simple cases people
 * put in an environment variable: whitespace separates, '…' is literal, "…" and a backslash
 * escape. No variables, globs or pipes: the result is exec'd directly, never by a shell.
 */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (ch === "\\" && i + 1 < line.length && (quote === undefined || /["\\$`]/.test(line[i + 1]!))) {
      current += line[++i];
      inWord = true;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) args.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) {
    throw new StationError(
      "VALIDATION_ERROR",
      `BLE helper command has an unterminated ${quote} quote: ${line}`,
    );
  }
  if (inWord) args.push(current);
  if (args.length === 0) throw new StationError("VALIDATION_ERROR", "BLE helper command is empty");
  return args;
}

/**
 * OPENGENIE_BLE_BRIDGE (already read by the config layer) wins over the embedded helper;
 * `scriptPath` is only called without it, so a replaced helper leaves the data dir untouched.
 */
export function resolveBridgeCommand(override: string | undefined, scriptPath: () => string): string[] {
  return override?.trim() ? splitCommandLine(override) : defaultBridgeCommand(scriptPath());
}
