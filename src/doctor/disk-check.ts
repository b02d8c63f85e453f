import { statfsSync } from "node:fs";
import { type CheckResult, fail, ok, warn } from "./check.ts";

const MB = 1024 * 1024;
/** Under this the station still runs, but not for long: logs, WAL and backups grow. */
export const LOW_DISK_BYTES = 200 * MB;
/** Under this SQLite's writes (and the WAL's checkpoints) are failing or about to. */
export const FULL_DISK_BYTES = 20 * MB;

const FIX =
  "free some space (sudo apt-get clean; sudo journalctl --vacuum-size=100M; old backups) or move the data dir to a larger disk";

/** Free space on the file system that holds the data dir, as an unprivileged writer sees it. */
export function diskCheck(dataDir: string): CheckResult {
  const name = "disk space";
  let free: number;
  try {
    const fs = statfsSync(dataDir);
    free = fs.bavail * fs.bsize;
  } catch (err) {
    return warn("disk", name, `cannot read the free space of ${dataDir}: ${(err as Error).message}`);
  }
  const detail = `${Math.floor(free / MB)} MB free for ${dataDir}`;
  if (free < FULL_DISK_BYTES) return fail("disk", name, `${detail}: writes will fail`, FIX);
  if (free < LOW_DISK_BYTES) return warn("disk", name, `${detail} (under ${LOW_DISK_BYTES / MB} MB)`, FIX);
  return ok("disk", name, detail);
}
