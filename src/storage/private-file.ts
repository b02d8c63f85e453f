import { closeSync, fchmodSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

/**
 * Creates `path` empty, exclusively and mode 0600 before a byte is written, so a file that will
 * hold a secret is never readable by anyone else, not even for a moment (issue 9, finding 1).
 * Exclusive: a file or symlink someone placed there first makes this fail instead of being used.
 */
export function createPrivateFile(path: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    // The mode given to open() is filtered by the umask; this sets exactly 0600 whatever it is.
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to `path` (mode 0600) through a private temporary file and an atomic rename. */
export function writePrivateFile(path: string, content: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  createPrivateFile(temp);
  try {
    const fd = openSync(temp, "w");
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
