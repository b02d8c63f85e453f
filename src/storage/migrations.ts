import { type Kysely, PostgresAdapter, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";

/**
 * Versioned migrations live in code so they ship inside the compiled binary. Never edit a
 * released one; add the next.
 */
function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * The one dialect difference in the schema: integers (epoch milliseconds, ids) are 64-bit
 * `bigint` on PostgreSQL, whose `integer` is 32-bit; SQLite's `integer` is already 64-bit. The
 * pool parses int8 back into numbers (open-postgres.ts), so rows look the same on both.
 */
function int(db: Kysely<unknown>): "integer" | "bigint" {
  return isPostgres(db) ? "bigint" : "integer";
}

const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("station_meta")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("username", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('owner','admin','member','guest')`))
        .addColumn("created_at", int(db), (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("label", "text")
        .addColumn("created_at", int(db), (c) => c.notNull())
        .addColumn("expires_at", int(db), (c) => c.notNull())
        .addColumn("revoked_at", int(db))
        .execute();
      await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();
      await db.schema
        .createTable("devices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("transport", "text", (c) => c.notNull())
        .addColumn("credential_hash", "text")
        .addColumn("firmware_version", "text")
        .addColumn("online", int(db), (c) => c.notNull().defaultTo(0))
        .addColumn("last_seen", int(db))
        .addColumn("heartbeat_sec", int(db))
        .addColumn("driver_key", "text")
        .addColumn("created_at", int(db), (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("device_state")
        .addColumn("device_id", "text", (c) => c.primaryKey().references("devices.id").onDelete("cascade"))
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("updated_at", int(db), (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("events")
        .addColumn("id", int(db), (c) =>
          isPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id").onDelete("cascade"))
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("at", int(db), (c) => c.notNull())
        .execute();
      await db.schema.createIndex("events_device_id").on("events").columns(["device_id", "id"]).execute();
      await db.schema
        .createTable("drivers")
        .addColumn("driver_key", "text", (c) => c.primaryKey())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("created_at", int(db), (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("cloud_config")
        .addColumn("id", int(db), (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn("station_token", "text")
        .addColumn("claimed_at", int(db))
        .addColumn("updated_at", int(db), (c) => c.notNull())
        .execute();
    },
  },
  "0002_session_last_seen": {
    async up(db: Kysely<unknown>) {
      // When an app last talked to the station on this session (set when its socket closes).
      await db.schema.alterTable("sessions").addColumn("last_seen_at", int(db)).execute();
    },
  },
  "0003_driver_devices": {
    async up(db: Kysely<unknown>) {
      // What a driver announced about each of its devices (CONTRACT.md section 4 `/driver`): the
      // driver's own id for it, which instance serves it, its properties (command catalog
      // included) and its latest metrics. Gone with the device.
      await db.schema
        .createTable("driver_devices")
        .addColumn("device_id", "text", (c) => c.primaryKey().references("devices.id").onDelete("cascade"))
        .addColumn("driver_key", "text", (c) => c.notNull())
        .addColumn("driver_device_id", "text", (c) => c.notNull())
        .addColumn("instance_id", "text", (c) => c.notNull())
        .addColumn("properties", "text", (c) => c.notNull())
        .addColumn("metrics", "text", (c) => c.notNull())
        .addColumn("updated_at", int(db), (c) => c.notNull())
        .addUniqueConstraint("driver_devices_key_id", ["driver_key", "driver_device_id"])
        .execute();
    },
  },
  "0004_cloud_link": {
    async up(db: Kysely<unknown>) {
      // Users mirrored from the cloud's members (CONTRACT.md section 7 identity messages) are
      // found by the cloud's id for them; at most one local user per cloud member.
      await db.schema.alterTable("users").addColumn("cloud_user_id", "text").execute();
      await db.schema
        .createIndex("users_cloud_user_id")
        .unique()
        .on("users")
        .column("cloud_user_id")
        .execute();
    },
  },
  "0006_automations": {
    async up(db: Kysely<unknown>) {
      // Automations (src/automations, docs/automations.md): the definition as JSON, whether it
      // is enabled, why the station suspended it, and when each time trigger last fired (so a
      // restart or a clock set back never runs one twice). Runs are kept per automation, the
      // newest few only (AUTOMATION_RUNS_KEPT).
      await db.schema
        .createTable("automations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("enabled", int(db), (c) => c.notNull())
        .addColumn("mode", "text", (c) => c.notNull())
        .addColumn("definition", "text", (c) => c.notNull())
        .addColumn("suspended_reason", "text")
        .addColumn("last_fired", "text", (c) => c.notNull())
        .addColumn("created_at", int(db), (c) => c.notNull())
        .addColumn("updated_at", int(db), (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("automation_runs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("automation_id", "text", (c) =>
          c.notNull().references("automations.id").onDelete("cascade"),
        )
        .addColumn("trigger", "text", (c) => c.notNull())
        .addColumn("started_at", int(db), (c) => c.notNull())
        .addColumn("finished_at", int(db))
        .addColumn("ok", int(db))
        .addColumn("error", "text")
        .addColumn("actions", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("automation_runs_automation")
        .on("automation_runs")
        .columns(["automation_id", "started_at"])
        .execute();
    },
  },
  "0007_integrations": {
    async up(db: Kysely<unknown>) {
      // MQTT logins for integrations such as Home Assistant on the embedded broker
      // (src/home-assistant, docs/home-assistant.md): the password is stored hashed only.
      await db.schema
        .createTable("integrations")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("username", "text", (c) => c.notNull().unique())
        .addColumn("credential_hash", "text", (c) => c.notNull())
        .addColumn("created_at", int(db), (c) => c.notNull())
        .execute();
      // Every Home Assistant discovery config the station has published (retained), so configs
      // of devices deleted while it was stopped are cleared at the next start.
      await db.schema
        .createTable("ha_discovery")
        .addColumn("topic", "text", (c) => c.primaryKey())
        .addColumn("device_id", "text", (c) => c.notNull())
        .addColumn("published_at", int(db), (c) => c.notNull())
        .execute();
    },
  },
};

export const inCodeMigrations: MigrationProvider = {
  getMigrations: async () => migrations,
};

/** Every migration this version has, in order. */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();
