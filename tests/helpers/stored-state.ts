import { Database } from "bun:sqlite";
import { databasePath } from "../../src/storage/index.ts";

/**
 * The state the station has committed to its SQLite file for a device, read by a second
 * connection as another process would; undefined when it has no row yet.
 */
export function storedState(dataDir: string, deviceId: string): Record<string, unknown> | undefined {
  const db = new Database(databasePath(dataDir), { readonly: true });
  try {
    const row = db.query("SELECT state FROM device_state WHERE device_id = ?").get(deviceId) as {
      state: string;
    } | null;
    return row ? JSON.parse(row.state) : undefined;
  } finally {
    db.close();
  }
}
