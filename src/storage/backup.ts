import { chmodSync, copyFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import type { Platform, SqliteHandle } from "../platform/index.ts";
import { databasePath } from "./open-database.ts";
import { createPrivateFile } from "./private-file.ts";

export interface BackupIdentity {
  stationId: string;
  jwtSecret: string;
}

/** Keys under which a backup carries the station's identity, so a restore is the same station. */
const META = {
  stationId: "backup.station_id",
  jwtSecret: "backup.jwt_secret",
  createdAt: "backup.created_at",
};

/**
 * Writes a consistent copy of the live database (SQLite `VACUUM INTO`, safe while the station
 * runs) plus the station's identity to `out`, mode 0600 since it holds hashes and the secret.
 */
export function writeBackup(
  platform: Platform,
  dataDir: string,
  out: string,
  identity: BackupIdentity,
  now: number,
) {
  const tmp = `${out}.partial`;
  rmSync(tmp, { force: true });
  // 0600 and empty before SQLite writes into it (VACUUM INTO accepts an empty file); its
  // journal takes the same mode.
  createPrivateFile(tmp);
  try {
    const source = platform.openSqlite(databasePath(dataDir));
    try {
      source.backupTo(tmp);
    } finally {
      source.close();
    }
    const copy = platform.openSqlite(tmp);
    try {
      const put = (key: string, value: string) =>
        copy.run("INSERT OR REPLACE INTO station_meta (key, value) VALUES (?, ?)", [key, value]);
      put(META.stationId, identity.stationId);
      put(META.jwtSecret, identity.jwtSecret);
      put(META.createdAt, String(now));
      copy.exec("PRAGMA journal_mode = DELETE");
    } finally {
      copy.close();
    }
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-journal`, { force: true });
    throw err;
  }
  return { bytes: statSync(out).size };
}

/** Checks a backup file and reads the identity it carries; throws with what is wrong. */
export function inspectBackup(platform: Platform, file: string) {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  let opened: SqliteHandle | undefined;
  try {
    const db = platform.openSqlite(file);
    opened = db;
    if (db.integrityCheck("full").length > 0) throw new Error("the file is damaged (integrity check failed)");
    const rows = db.query<{ key: string; value: string }>("SELECT key, value FROM station_meta");
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    const stationId = meta.get(META.stationId);
    const jwtSecret = meta.get(META.jwtSecret);
    if (!stationId || !jwtSecret) throw new Error("this is not an OpenGenie backup (no station identity)");
    const count = (table: "devices" | "users") =>
      db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0]?.n ?? 0;
    const devices = count("devices");
    const users = count("users");
    return { stationId, jwtSecret, createdAt: Number(meta.get(META.createdAt) ?? 0), devices, users };
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(
      /not a database|file is not|no such table/i.test(message) ? "this is not an OpenGenie backup" : message,
    );
  } finally {
    opened?.close();
  }
}

/**
 * Puts a backup in place of the data dir's database (the station must be stopped). The identity
 * the backup carries goes to the data dir's own files; the database keeps no copy of the secret
 * (issue 9, finding 9): the rows are deleted with secure_delete and the file vacuumed, so not
 * even a freed page holds it.
 */
export function installBackup(platform: Platform, dataDir: string, file: string) {
  const target = databasePath(dataDir);
  const tmp = `${target}.restoring`;
  rmSync(tmp, { force: true });
  createPrivateFile(tmp);
  try {
    copyFileSync(file, tmp);
    const db = platform.openSqlite(tmp);
    try {
      db.exec("PRAGMA secure_delete = ON");
      db.run("DELETE FROM station_meta WHERE key LIKE 'backup.%'", []);
      db.exec("VACUUM");
      db.exec("PRAGMA journal_mode = DELETE");
    } finally {
      db.close();
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // The database holds password hashes: readable by the station's group, never by others.
  chmodSync(tmp, 0o640);
  // The old WAL belongs to the old file; left behind it would be replayed onto the backup.
  rmSync(`${target}-wal`, { force: true });
  rmSync(`${target}-shm`, { force: true });
  renameSync(tmp, target);
}
