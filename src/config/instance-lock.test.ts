/**
 * The single-instance lock, raced by real processes: each child reads an instant on stdin, takes
 * the lock at that instant, reports, and holds what it got until its stdin closes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../../tests/helpers/temp-dir.ts";
import { createInstanceLock, instanceLockPath, processIdentity } from "./instance-lock.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function dataDir(): string {
  const dir = makeTempDir("opengenie-lock-");
  cleanups.push(dir.remove);
  return join(dir.path, "data");
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

const CHILD = `
const { createInstanceLock } = await import(${JSON.stringify(join(import.meta.dir, "instance-lock.ts"))});
const lock = createInstanceLock(process.env.LOCK_DIR, process.pid);
const reader = Bun.stdin.stream().getReader();
process.stdout.write("ready\\n");
const go = Number(new TextDecoder().decode((await reader.read()).value));
// Spin to the agreed instant, so the children reach the lock together, not one pipe write apart.
while (Date.now() < go) {}
try {
  lock.acquire();
  process.stdout.write("won\\n");
} catch (err) {
  process.stdout.write("lost: " + err.message + "\\n");
}
while (!(await reader.read()).done) {}
lock.release();
`;

/** Starts `count` processes, releases them at once, and returns what each reported. */
async function race(dir: string, count: number): Promise<string[]> {
  const children = Array.from({ length: count }, () =>
    Bun.spawn([process.execPath, "-e", CHILD], {
      env: { ...process.env, LOCK_DIR: dir },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  cleanups.push(async () => {
    for (const child of children) child.stdin.end();
    await Promise.all(children.map((child) => child.exited));
  });
  const readers = children.map((child) => child.stdout.getReader());
  const decoder = new TextDecoder();
  const nextLine = async (i: number) => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await readers[i]!.read();
      if (done) throw new Error(`child ${i} exited early`);
      text += decoder.decode(value);
    }
    return text.trim();
  };
  expect(await Promise.all(children.map((_, i) => nextLine(i)))).toEqual(children.map(() => "ready"));
  const go = Date.now() + 300;
  for (const child of children) {
    child.stdin.write(`${go}\n`);
    child.stdin.flush();
  }
  return Promise.all(children.map((_, i) => nextLine(i)));
}

describe("single-instance lock on a data dir", () => {
  test("one holder at a time; the refusal names its pid; release hands it on", () => {
    const dir = dataDir();
    const first = createInstanceLock(dir, process.pid);
    first.acquire();
    expect(JSON.parse(readFileSync(instanceLockPath(dir), "utf8"))).toEqual({
      pid: process.pid,
      process: processIdentity(process.pid),
    });
    // Another station in this very process is refused like one in another process.
    const second = createInstanceLock(dir, process.pid);
    expect(() => second.acquire()).toThrow(
      `a station is already running on ${dir} (pid ${process.pid}); stop it first or pass another --data-dir`,
    );
    second.release(); // not held: leaves the first station's lock alone
    expect(existsSync(instanceLockPath(dir))).toBe(true);
    first.release();
    expect(existsSync(instanceLockPath(dir))).toBe(false);
    second.acquire();
    second.release();
  });

  test("a lock left by a dead process, or by an earlier process with the same pid, is taken over", async () => {
    const dir = dataDir();
    const lock = createInstanceLock(dir, process.pid);
    lock.acquire();
    lock.release();
    writeFileSync(instanceLockPath(dir), JSON.stringify({ pid: await deadPid() }));
    lock.acquire();
    lock.release();
    // The pid is alive, but it is not the process that wrote the lock (a reboot, a reused pid).
    writeFileSync(instanceLockPath(dir), JSON.stringify({ pid: process.pid, process: "other-boot:1" }));
    lock.acquire();
    expect(JSON.parse(readFileSync(instanceLockPath(dir), "utf8")).process).toBe(
      processIdentity(process.pid),
    );
    lock.release();
  });

  test.skipIf(processIdentity(process.pid) === undefined)(
    "a process's identity (boot and start time) is stable while it runs, gone once it exits",
    async () => {
      expect(processIdentity(process.pid)).toMatch(/^[0-9a-f-]{36}:\d+$/);
      expect(processIdentity(process.pid)).toBe(processIdentity(process.pid));
      expect(processIdentity(await deadPid())).toBeUndefined();
    },
  );

  test("processes racing for a free data dir: exactly one wins, the others get the clear error", async () => {
    const dir = dataDir();
    const outcomes = await race(dir, 8);
    expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o !== "won")) {
      expect(lost).toMatch(/^lost: a station is already running on .* \((pid \d+|starting)\)/);
    }
  }, 30_000);

  test("processes racing to take over a stale lock: exactly one wins", async () => {
    const dir = dataDir();
    const lock = createInstanceLock(dir, process.pid);
    lock.acquire();
    lock.release();
    writeFileSync(instanceLockPath(dir), JSON.stringify({ pid: await deadPid() }));
    const outcomes = await race(dir, 8);
    expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
    expect(outcomes.filter((o) => o.startsWith("lost: a station is already running"))).toHaveLength(7);
  }, 30_000);
});
