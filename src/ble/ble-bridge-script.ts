/**
 * The bleak helper ships inside the station binary (`platform.embedded.bleBridgeScript`); on
 * start the station writes it to the data dir for python3 to run.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Writes the helper `script` to `<dataDir>/ble_bridge.py` (mode 0644) and returns its path. Rewritten only when the
 * content differs, so an unchanged file keeps its mtime; the rename makes the swap atomic for
 * a helper that a previous station version may still be starting.
 */
export function writeBridgeScript(dataDir: string, script: string): string {
  const path = join(dataDir, "ble_bridge.py");
  if (readIfExists(path) !== script) {
    mkdirSync(dataDir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, script, { mode: 0o644 });
    renameSync(temp, path);
  }
  // writeFileSync's mode is filtered by the umask and ignored for an existing file.
  chmodSync(path, 0o644);
  return path;
}
