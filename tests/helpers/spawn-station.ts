import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { opengenieCommand, repoRoot, runtimeEnv } from "./station-runtime.ts";
import { useTestDatabase } from "./test-database.ts";

export { repoRoot };

/** `opengenie` from the checkout, on the runtime under test (OPENGENIE_TEST_RUNTIME). */
export const stationBin = opengenieCommand();

export interface SpawnedStation {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  dataDir: string;
  info: {
    pid: number;
    httpUrl: string;
    httpPort: number;
    mqttPort: number;
    stationId: string;
    mqttUrl: string;
  };
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number>;
}

/** Runs a command and collects everything it prints. */
export async function runCommand(
  cmd: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
) {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...runtimeEnv(), ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

function drain(stream: ReadableStream<Uint8Array>, sink: { text: string }) {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.text += decoder.decode(chunk);
  })();
}

/**
 * Starts `opengenie serve` as a real process (the given command, e.g. the compiled binary) and
 * waits until it printed `listening` and wrote run/station.json.
 */
export async function spawnStation(
  dataDir: string,
  options: {
    cmd?: string[];
    args?: string[];
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<SpawnedStation> {
  const cmd = options.cmd ?? stationBin;
  await useTestDatabase(dataDir);
  const proc = Bun.spawn(
    [...cmd, "serve", "--data-dir", dataDir, ...(options.args ?? ["--port", "0", "--mqtt-port", "0"])],
    {
      cwd: options.cwd ?? repoRoot,
      env: {
        ...process.env,
        OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
        OPENGENIE_HOST: "127.0.0.1",
        HOME: dirname(dataDir),
        ...runtimeEnv(),
        ...options.env,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const out = { text: "" };
  const err = { text: "" };
  drain(proc.stdout, out);
  drain(proc.stderr, err);
  const runFile = join(dataDir, "run", "station.json");
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!(out.text.includes("listening") && existsSync(runFile))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`station did not start (exit ${proc.exitCode}):\n${out.text}\n${err.text}`);
    }
    await Bun.sleep(20);
  }
  const info = JSON.parse(readFileSync(runFile, "utf8"));
  return {
    proc,
    dataDir,
    info,
    stdout: () => out.text,
    stderr: () => err.text,
    async terminate() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
