import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

/** The typed shape of the station database; migrations.ts creates exactly this. */
export interface Database {
  station_meta: { key: string; value: string };
  users: {
    id: string;
    username: string;
    password_hash: string;
    role: "owner" | "admin" | "member" | "guest";
    created_at: number;
    /** The cloud member this user mirrors (migration 0004_cloud_link); null for LAN-only users. */
    cloud_user_id: ColumnType<string | null, string | null | undefined, string | null>;
  };
  sessions: {
    id: string;
    user_id: string;
    kind: "login" | "token";
    label: string | null;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
    last_seen_at: ColumnType<number | null, number | null | undefined, number | null>;
  };
  devices: {
    id: string;
    name: string;
    type: string;
    transport: "mqtt" | "iot-ws" | "driver";
    credential_hash: string | null;
    firmware_version: string | null;
    online: ColumnType<number, number | undefined, number>;
    last_seen: number | null;
    heartbeat_sec: number | null;
    driver_key: string | null;
    created_at: number;
  };
  device_state: { device_id: string; state: string; updated_at: number };
  events: {
    id: Generated<number>;
    device_id: string;
    kind: string;
    data: string;
    at: number;
  };
  drivers: { driver_key: string; token_hash: string; created_at: number };
  driver_devices: {
    device_id: string;
    driver_key: string;
    driver_device_id: string;
    instance_id: string;
    /** JSON: the announced properties, `commandCatalog` included. */
    properties: string;
    /** JSON: the latest `METRIC_UPDATE` metrics. */
    metrics: string;
    updated_at: number;
  };
  automations: {
    id: string;
    name: string;
    enabled: number;
    mode: string;
    /** JSON: `{triggers, conditions, actions}`. */
    definition: string;
    suspended_reason: string | null;
    /** JSON: trigger index → epoch ms of its last scheduled fire. */
    last_fired: string;
    created_at: number;
    updated_at: number;
  };
  automation_runs: {
    id: string;
    automation_id: string;
    /** JSON: what started the run. */
    trigger: string;
    started_at: number;
    finished_at: number | null;
    ok: number | null;
    error: string | null;
    /** JSON: each action's outcome. */
    actions: string;
  };
  cloud_config: {
    id: number;
    station_token: string | null;
    claimed_at: number | null;
    updated_at: number;
  };
  /** Integration MQTT logins (migration 0007_integrations). */
  integrations: { name: string; username: string; credential_hash: string; created_at: number };
  /** Home Assistant discovery configs published (retained), per device (0007_integrations). */
  ha_discovery: { topic: string; device_id: string; published_at: number };
}

export type UserRow = Selectable<Database["users"]>;
export type SessionRow = Selectable<Database["sessions"]>;
export type DeviceRow = Selectable<Database["devices"]>;
export type NewDevice = Insertable<Database["devices"]>;
export type EventRow = Selectable<Database["events"]>;
