/**
 * One station per data dir, decided before anything else touches it: `<data-dir>/run/station.lock`
 * is created exclusively (a hard link of a complete file: link(2) fails with EEXIST when the
 * lock exists, and a reader never sees half a file), so of two stations started at the same
 * instant exactly one gets it. The run file (station.json) is written much later, once the
 * ports are bound, and cannot decide this.
 *
 * A lock whose process is gone (kill -9, power cut) is stale and taken over. A pid alone does
 * not say that: after a reboot the same pid often belongs to another program, so the lock also
 * records the process's identity (boot id and start time from /proc, where there is one).
 */
import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { ConfigError } from "./load-config.ts";
import { isProcessAlive, readRunFile } from "./run-file.ts";

const ownerSchema = z.object({ pid: z.number().int(), process: z.string().optional() });
type LockOwner = z.infer<typeof ownerSchema>;

export function instanceLockPath(dataDir: string): string {
  return join(dataDir, "run", "station.lock");
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Boot id and start time (clock ticks since boot) of a live process; undefined without /proc. */
export function processIdentity(pid: number): string | undefined {
  const boot = readOrUndefined("/proc/sys/kernel/random/boot_id")?.trim();
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!boot || !stat) return undefined;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; starttime is field 22.
  const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  return startTime ? `${boot}:${startTime}` : undefined;
}

/** True while the process that wrote `owner` still runs (not merely one with its pid). */
function ownerAlive(owner: LockOwner): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  if (owner.process === undefined) return true;
  const now = processIdentity(owner.pid);
  return now === undefined || now === owner.process;
}

function parseOwner(raw: string | undefined): LockOwner | undefined {
  if (raw === undefined) return undefined;
  try {
    return ownerSchema.parse(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

/** Hard-links a complete file to `path`; false when `path` already exists. */
function linkExclusive(source: string, path: string): boolean {
  try {
    linkSync(source, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

export interface InstanceLock {
  /** Takes the data dir or throws ConfigError naming the station that has it. Call before anything else. */
  acquire(): void;
  /** Gives the data dir up (at stop); a no-op when not held. */
  release(): void;
}

export function createInstanceLock(dataDir: string, pid: number): InstanceLock {
  const file = instanceLockPath(dataDir);
  const takeover = `${file}.takeover`;
  let held: string | undefined;

  function alreadyRunning(owner: LockOwner | undefined): ConfigError {
    const run = readRunFile(dataDir, isProcessAlive);
    // The run file names the station's URL once it listens; while it starts there is only the pid.
    const where = !owner
      ? "starting"
      : run?.pid === owner.pid
        ? `pid ${owner.pid}, ${run.httpUrl}`
        : `pid ${owner.pid}`;
    return new ConfigError(
      `a station is already running on ${dataDir} (${where}); stop it first or pass another --data-dir`,
    );
  }

  /**
   * Replaces a stale lock with ours. Takers serialise on a second exclusive file, so two of
   * them cannot both judge the same stale lock and each replace it; under it, the lock is
   * replaced only if it still holds what was judged stale. False when it changed meanwhile.
   */
  function replaceStale(mine: string, stale: string): boolean {
    if (!linkExclusive(mine, takeover)) {
      const taker = parseOwner(readOrUndefined(takeover));
      // Another station is replacing the stale lock right now and will hold it.
      if (taker && ownerAlive(taker)) throw alreadyRunning(taker);
      // Its taker died within those few system calls: the takeover file is stale itself.
      rmSync(takeover, { force: true });
      // Lost to another taker that came in just now.
      if (!linkExclusive(mine, takeover)) throw alreadyRunning(parseOwner(readOrUndefined(takeover)));
    }
    try {
      if (readOrUndefined(file) !== stale) return false;
      renameSync(mine, file);
      return true;
    } finally {
      rmSync(takeover, { force: true });
    }
  }

  return {
    acquire() {
      if (held) return;
      mkdirSync(dirname(file), { recursive: true });
      const content = JSON.stringify({ pid, process: processIdentity(pid) } satisfies LockOwner);
      const mine = `${file}.${pid}.${randomUUID()}`;
      writeFileSync(mine, content, { flag: "wx", mode: 0o644 });
      try {
        // A few rounds at most: each one ends unless the lock changed hands meanwhile.
        for (let round = 0; round < 5; round++) {
          if (linkExclusive(mine, file)) {
            held = content;
            return;
          }
          const raw = readOrUndefined(file);
          if (raw === undefined) continue; // released meanwhile: try again
          const owner = parseOwner(raw);
          if (owner && ownerAlive(owner)) throw alreadyRunning(owner);
          if (replaceStale(mine, raw)) {
            held = content;
            return;
          }
        }
        throw new ConfigError(`could not lock ${file}: it keeps changing hands; try again`);
      } finally {
        rmSync(mine, { force: true });
      }
    },
    release() {
      if (!held) return;
      // Only ever our own: nobody replaces the lock of a live station.
      if (readOrUndefined(file) === held) rmSync(file, { force: true });
      held = undefined;
    },
  };
}
