import type { Updateable } from "kysely";
import type { BatchStatement } from "../platform/index.ts";
import type { Database } from "./schema.ts";

/** Fields of a device row the writer sets; the id picks the row. */
export type DevicePatch = Omit<Updateable<Database["devices"]>, "id">;

/**
 * Every column a patch can carry, as a record over the schema's own keys: a column added to
 * schema.ts but not listed here, or listed here but absent from the table, fails type-checking,
 * so nothing a patch carries is silently left unwritten.
 */
const patchColumnSet: Record<keyof DevicePatch, true> = {
  name: true,
  type: true,
  transport: true,
  credential_hash: true,
  firmware_version: true,
  online: true,
  last_seen: true,
  heartbeat_sec: true,
  driver_key: true,
  created_at: true,
};
const patchColumns = Object.keys(patchColumnSet) as (keyof DevicePatch)[];

export interface PendingState {
  state: string;
  at: number;
}

export interface PendingEvent {
  device_id: string;
  kind: string;
  data: string;
  at: number;
}

/** One row to write, with what it came from so it can be put back. */
export type WriteUnit = { sql: string; row: BatchStatement["rows"][number] } & (
  | { kind: "patch"; deviceId: string; patch: DevicePatch }
  | { kind: "state"; deviceId: string; value: PendingState }
  | { kind: "event"; event: PendingEvent }
);

const UPSERT_STATE =
  "INSERT INTO device_state (device_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at";
const INSERT_EVENT = "INSERT INTO events (device_id, kind, data, at) VALUES (?, ?, ?, ?)";

/** The rows for pending patches, states and events; a patch sets exactly the columns it carries. */
export function toWriteUnits(
  patches: Map<string, DevicePatch>,
  states: Map<string, PendingState>,
  events: PendingEvent[],
): WriteUnit[] {
  const units: WriteUnit[] = [];
  for (const [deviceId, patch] of patches) {
    const columns = patchColumns.filter((c) => patch[c] !== undefined);
    if (columns.length === 0) continue;
    units.push({
      kind: "patch",
      deviceId,
      patch,
      sql: `UPDATE devices SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`,
      row: [...columns.map((c) => patch[c] as string | number | null), deviceId],
    });
  }
  for (const [deviceId, value] of states) {
    units.push({ kind: "state", deviceId, value, sql: UPSERT_STATE, row: [deviceId, value.state, value.at] });
  }
  for (const event of events) {
    units.push({
      kind: "event",
      event,
      sql: INSERT_EVENT,
      row: [event.device_id, event.kind, event.data, event.at],
    });
  }
  return units;
}

/** One prepared statement per distinct SQL, in first-seen order. */
export function toStatements(units: WriteUnit[]): BatchStatement[] {
  const bySql = new Map<string, BatchStatement>();
  for (const u of units) {
    const stmt = bySql.get(u.sql) ?? { sql: u.sql, rows: [] };
    bySql.set(u.sql, stmt);
    stmt.rows.push(u.row);
  }
  return [...bySql.values()];
}
