/**
 * One run of the helper process: spawned through the platform port, stdout split into lines,
 * stderr kept for the log, and an exit that is reported only after both pipes drain.
 */
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform, SpawnedProcess } from "../platform/index.ts";
import { readLines } from "./line-reader.ts";

export interface HelperChildOptions {
  platform: Pick<Platform, "spawn">;
  command: string[];
  env?: Record<string, string | undefined>;
  clock: Clock;
  log: Logger;
  onLine(line: string): void;
  onOverflow(bytes: number): void;
}

export interface HelperChild {
  readonly process: SpawnedProcess;
  /** Exit code and the last stderr lines (a traceback says why better than an exit code). */
  readonly exit: Promise<{ code: number; stderrTail: string[] }>;
}

/** Throws what the platform throws when the command cannot be spawned (e.g. ENOENT). */
export function startHelperChild(options: HelperChildOptions): HelperChild {
  const { clock, log } = options;
  const proc = options.platform.spawn(options.command, { env: options.env });
  log.debug("ble helper started", { pid: proc.pid, command: options.command });
  const stderrTail: string[] = [];
  const stdoutDone = readLines(proc.stdout, { onLine: options.onLine, onOverflow: options.onOverflow });
  const stderrDone = readLines(proc.stderr, {
    onLine: (line) => {
      log.debug("ble helper stderr", { line });
      stderrTail.push(line);
      if (stderrTail.length > 5) stderrTail.shift();
    },
  });
  // Exit is reported after both pipes drain, so its last lines (an error, a traceback) count;
  // but a grandchild holding the pipes open must not hide the exit, hence the time limit.
  const exit = proc.exited.then(async (code) => {
    let limit: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => {
      limit = clock.setTimeout(resolve, 1_000);
    });
    await Promise.race([Promise.all([stdoutDone, stderrDone]), timeout]);
    clock.clearTimeout(limit);
    return { code, stderrTail };
  });
  return { process: proc, exit };
}
