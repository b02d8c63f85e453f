#!/usr/bin/env bun
/**
 * The executable: argv → subcommand → composition root. Only this file touches signals,
 * exit codes and process.env (STYLE.md).
 */
import { runCli } from "../src/cli/index.ts";
import type { TerminalPrompt } from "../src/cli/terminal-prompt.ts";
import type { Platform } from "../src/platform/index.ts";

/**
 * The one place the runtime is told apart: its platform is loaded, the other one never is
 * (bun:sqlite and text imports do not exist on Deno, Deno.* does not exist on Bun).
 */
async function runtimePlatform(): Promise<Platform> {
  if ("Deno" in globalThis) {
    const { createDenoPlatform } = await import("../src/platform/deno/deno-platform.ts");
    return createDenoPlatform();
  }
  const { createBunPlatform } = await import("../src/platform/bun/bun-platform.ts");
  return createBunPlatform();
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// Signals are handled from the first moment: a SIGTERM that arrives while the station is still
// starting stops it cleanly once start has finished, instead of killing it half-built.
let stopStation: (() => Promise<void>) | undefined;
let signalled = false;
const shutdown = async () => {
  if (signalled) return;
  signalled = true;
  if (!stopStation) return; // still starting (or a one-shot command): handled below
  await stopStation();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

// Made for the first question: a command that asks none (serve among them) never sets up stdin.
let terminal: TerminalPrompt | undefined;
async function prompt(...args: Parameters<TerminalPrompt["prompt"]>) {
  if (!terminal) {
    const { createTerminalPrompt } = await import("../src/cli/terminal-prompt.ts");
    terminal = createTerminalPrompt(process.stdin, process.stdout);
  }
  return terminal.prompt(...args);
}
const outcome = await runCli(process.argv.slice(2), {
  env: process.env,
  platform: await runtimePlatform(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin,
  prompt,
  isTTY: Boolean(process.stderr.isTTY),
}).catch((err: unknown) => {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  if (process.env.LOG_LEVEL === "debug") process.stderr.write(`${(err as Error).stack}\n`);
  return { kind: "exit" as const, code: 1 };
});

terminal?.close();
if (outcome.kind === "exit") {
  process.exit(signalled && outcome.code === 0 ? 0 : outcome.code);
} else {
  stopStation = outcome.stop;
  // The station asked to end (the cloud's station_reset): stop cleanly, exit with its code so
  // systemd's Restart=on-failure starts it again (docs/cloud.md).
  void outcome.exitRequested?.then(async (code) => {
    if (signalled) return;
    signalled = true;
    await outcome.stop();
    process.exit(code);
  });
  if (signalled) {
    await outcome.stop();
    process.exit(0);
  }
}
