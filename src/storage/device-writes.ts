import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Updateable,
} from "kysely";
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

export type SqlDialect = "sqlite" | "postgres";

/** A kysely that only compiles (never connects), for the dialect's SQL text and placeholders. */
function compiler(dialect: SqlDialect): Kysely<Database> {
  const pg = dialect === "postgres";
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => (pg ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => (pg ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
      createQueryCompiler: () => (pg ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  });
}

/**
 * The writer's statements, compiled by kysely for the dialect in use, once per shape (a patch's
 * shape is the set of columns it carries), so the hot path builds no query per row. Parameters
 * are in the order the rows list them: the values in key order, then the device id.
 */
export interface WriteSql {
  upsertState: string;
  insertEvent: string;
  patch(columns: readonly (keyof DevicePatch)[]): string;
}

export function createWriteSql(dialect: SqlDialect): WriteSql {
  const db = compiler(dialect);
  const patches = new Map<string, string>();
  return {
    upsertState: db
      .insertInto("device_state")
      .values({ device_id: "", state: "", updated_at: 0 })
      .onConflict((oc) =>
        oc.column("device_id").doUpdateSet((eb) => ({
          state: eb.ref("excluded.state"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .compile().sql,
    insertEvent: db.insertInto("events").values({ device_id: "", kind: "", data: "", at: 0 }).compile().sql,
    patch(columns) {
      const key = columns.join(",");
      let text = patches.get(key);
      if (text === undefined) {
        const set = Object.fromEntries(columns.map((c) => [c, null])) as DevicePatch;
        text = db.updateTable("devices").set(set).where("id", "=", "").compile().sql;
        patches.set(key, text);
      }
      return text;
    },
  };
}

const sqliteWriteSql = createWriteSql("sqlite");

/** The rows for pending patches, states and events; a patch sets exactly the columns it carries. */
export function toWriteUnits(
  patches: Map<string, DevicePatch>,
  states: Map<string, PendingState>,
  events: PendingEvent[],
  sql: WriteSql = sqliteWriteSql,
): WriteUnit[] {
  const units: WriteUnit[] = [];
  for (const [deviceId, patch] of patches) {
    const columns = patchColumns.filter((c) => patch[c] !== undefined);
    if (columns.length === 0) continue;
    units.push({
      kind: "patch",
      deviceId,
      patch,
      sql: sql.patch(columns),
      row: [...columns.map((c) => patch[c] as string | number | null), deviceId],
    });
  }
  for (const [deviceId, value] of states) {
    units.push({
      kind: "state",
      deviceId,
      value,
      sql: sql.upsertState,
      row: [deviceId, value.state, value.at],
    });
  }
  for (const event of events) {
    units.push({
      kind: "event",
      event,
      sql: sql.insertEvent,
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
