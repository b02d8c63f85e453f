import type { Platform } from "../platform/index.ts";

/** Everything a subcommand may touch of the outside world; bin/opengenie.ts supplies the real ones. */
export interface CliIo {
  env: Record<string, string | undefined>;
  platform: Platform;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** Asks one question and reads one line; `hidden` does not echo it (passwords). */
  prompt(question: string, options?: { hidden?: boolean }): Promise<string>;
  isTTY: boolean;
}

/** A problem the user can fix: printed as one `error: …` line, exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}

export type CliOutcome =
  | { kind: "exit"; code: number }
  | {
      kind: "running";
      stop(): Promise<void>;
      /** Resolves when the station asks to end with a code (docs/cloud.md, station_reset). */
      exitRequested?: Promise<number>;
    };

export const exit = (code: number): CliOutcome => ({ kind: "exit", code });
