/**
 * Test-only: runs line-protocol helpers (ble_bridge.py, the fake bridge, scripted children)
 * as real processes and owns every process and temp dir a test starts, so `close()` tears
 * all of it down and no test depends on another's order. Bun.spawn directly (not the
 * platform port) because EOF tests must close a child's stdin, which the station never does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLines } from "../../src/ble/line-reader.ts";

export type JsonLine = Record<string, unknown> & { type?: unknown };

export interface HelperRun {
  readonly pid: number;
  kill(signal?: NodeJS.Signals): void;
  /** EOF on the child's stdin. */
  closeStdin(): void;
  /** Every stdout line as received, parsed or not. */
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the first not-yet-taken stdout object with this type (waits if none yet). */
  next(type: string, timeoutMs?: number): Promise<JsonLine>;
  /** Resolves once a stderr line contains the text. */
  waitForStderr(text: string, timeoutMs?: number): Promise<string>;
  /** Resolves with find()'s first defined result, re-checked whenever output arrives. */
  until<T>(find: () => T | undefined, what: string, timeoutMs?: number): Promise<T>;
  send(line: string | object): void;
  /** Exit code; rejects after timeoutMs. */
  exit(timeoutMs?: number): Promise<number>;
}

export interface HelperHarness {
  tempDir(): string;
  writeFile(dir: string, name: string, text: string): string;
  run(cmd: string[], env?: Record<string, string | undefined>): HelperRun;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createHelperHarness(): HelperHarness {
  const dirs: string[] = [];
  const processes: Bun.Subprocess<"pipe", "pipe", "pipe">[] = [];

  function run(cmd: string[], env?: Record<string, string | undefined>): HelperRun {
    const proc = Bun.spawn(cmd, {
      env: { ...process.env, ...env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    processes.push(proc);
    const lines: string[] = [];
    const stderr: string[] = [];
    const taken = new Set<number>();
    let wake: () => void = () => {};
    let changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const notify = () => {
      const previous = wake;
      changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      previous();
    };
    const parse = (line: string): JsonLine | undefined => {
      try {
        return JSON.parse(line) as JsonLine;
      } catch {
        return undefined;
      }
    };
    const collect = (into: string[]) => (line: string) => {
      into.push(line);
      notify();
    };
    void readLines(proc.stdout, { onLine: collect(lines) });
    void readLines(proc.stderr, { onLine: collect(stderr) });

    const waitFor = async <T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> => {
      const search = async () => {
        for (;;) {
          const found = find();
          if (found !== undefined) return found;
          await changed;
        }
      };
      return withTimeout(search(), timeoutMs, `${what}; stdout: ${lines.join(" | ")}`);
    };

    return {
      pid: proc.pid,
      kill: (signal) => proc.kill(signal),
      closeStdin: () => void proc.stdin.end(),
      lines,
      stderr,
      next: (type, timeoutMs = 10_000) =>
        waitFor(
          () => {
            for (let i = 0; i < lines.length; i++) {
              const parsed = taken.has(i) ? undefined : parse(lines[i]!);
              if (parsed?.type === type) {
                taken.add(i);
                return parsed;
              }
            }
            return undefined;
          },
          `a "${type}" line`,
          timeoutMs,
        ),
      until: (find, what, timeoutMs = 10_000) => waitFor(find, what, timeoutMs),
      waitForStderr: (text, timeoutMs = 10_000) =>
        waitFor(() => stderr.find((l) => l.includes(text)), `stderr "${text}"`, timeoutMs),
      send: (line) => {
        proc.stdin.write(`${typeof line === "string" ? line : JSON.stringify(line)}\n`);
        proc.stdin.flush();
      },
      exit: (timeoutMs = 10_000) => withTimeout(proc.exited, timeoutMs, "the process to exit"),
    };
  }

  return {
    tempDir() {
      const dir = mkdtempSync(join(tmpdir(), "opengenie-ble-"));
      dirs.push(dir);
      return dir;
    },
    writeFile(dir, name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    run,
    async close() {
      for (const proc of processes.splice(0)) proc.kill("SIGKILL");
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
