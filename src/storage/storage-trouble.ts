/**
 * SQLite result codes saying the store cannot take any write now, as opposed to one row being
 * wrong (a constraint): https://www.sqlite.org/rescode.html. Extended codes share the prefix.
 */
const STORAGE_TROUBLE =
  /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL|NOLFS|PERM)/;

/** `"<code>: <message>"` when `err` is storage trouble (disk full, I/O error…), else undefined. */
export function storageTrouble(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err) || typeof err.code !== "string") {
    return undefined;
  }
  if (!STORAGE_TROUBLE.test(err.code)) return undefined;
  return `${err.code}: ${err instanceof Error ? err.message : "storage error"}`;
}
