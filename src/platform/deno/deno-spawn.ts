/** Child processes on Deno (`Deno.Command`), with Bun.spawn's behaviour the station relies on. */
import type { SpawnedProcess } from "../types.ts";

const SIGNAL_NAMES: Record<number, Deno.Signal> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  9: "SIGKILL",
  10: "SIGUSR1",
  12: "SIGUSR2",
  15: "SIGTERM",
};

function signalName(signal: number | NodeJS.Signals | undefined): Deno.Signal {
  if (signal === undefined) return "SIGTERM";
  if (typeof signal === "number") {
    const name = SIGNAL_NAMES[signal];
    if (!name) throw new Error(`unsupported signal ${signal}`);
    return name;
  }
  return signal as Deno.Signal;
}

/**
 * Throws at once when the command cannot be started (ENOENT), as Bun.spawn does. An `env`
 * replaces the environment, as with Bun.spawn (Deno.Command would otherwise add to it).
 */
export function denoSpawn(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): SpawnedProcess {
  const [program, ...args] = cmd;
  if (!program) throw new Error("spawn: empty command");
  const env = options.env
    ? Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined))
    : undefined;
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env,
    clearEnv: env !== undefined,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    writeStdin: (line) => {
      // A helper that already exited cannot read; Bun drops such writes the same way.
      stdin.write(encoder.encode(line)).catch(() => {});
    },
    kill: (signal) => {
      if (exited) return;
      try {
        child.kill(signalName(signal));
      } catch {
        // Exited between the check and the kill: nothing left to stop.
      }
    },
    // Killed by a signal: 128 + its number, as a shell reports it.
    exited: status.then((s) => s.code),
  };
}
