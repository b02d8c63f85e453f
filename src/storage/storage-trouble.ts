/**
 * SQLite result codes saying the store cannot take any write now, as opposed to one row being
 * wrong (a constraint): https://www.sqlite.org/rescode.html. Extended codes share the prefix.
 */
const STORAGE_TROUBLE =
  /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL|NOLFS|PERM)/;

/**
 * PostgreSQL: SQLSTATE classes 08 (connection), 53 (insufficient resources: disk full, too many
 * connections), 57 (operator intervention: shutdown, restart, statement timeout), 58 (system
 * error), plus the socket errors and the `pg` driver's own messages when the server went away.
 */
const PG_TROUBLE =
  /^(08|53|57|58)[0-9A-Z]{3}$|^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|NOTFOUND|HOSTUNREACH|AI_AGAIN)$/;
const PG_TROUBLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed|Cannot use a pool after calling end/i;

/** `"<code>: <message>"` when `err` is storage trouble (disk full, I/O error…), else undefined. */
export function storageTrouble(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = "code" in err && typeof err.code === "string" ? err.code : undefined;
  if (code === undefined || !(STORAGE_TROUBLE.test(code) || PG_TROUBLE.test(code))) {
    if (err instanceof Error && PG_TROUBLE_MESSAGE.test(err.message)) return `postgres: ${err.message}`;
    return undefined;
  }
  return `${code}: ${err instanceof Error ? err.message : "storage error"}`;
}
