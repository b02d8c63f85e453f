import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { generateToken, hashToken, tokenMatchesHash } from "../auth/index.ts";
import {
  type Clock,
  type DeviceSummary,
  type EventBus,
  StationError,
  type StationEvents,
} from "../core/index.ts";
import type { DeviceCommand, DeviceMetric } from "../protocol/index.ts";
import { type BatchedWriter, type Database, type DeviceRow, storageTrouble } from "../storage/index.ts";
import { type DeviceType, deviceTypeSchema } from "./device-types.ts";

export type Transport = DeviceSummary["transport"];

export interface LiveDevice {
  id: string;
  name: string;
  type: string;
  transport: Transport;
  credentialHash: string | null;
  firmwareVersion: string | null;
  online: boolean;
  lastSeen: number | null;
  heartbeatSec: number;
  createdAt: number;
  state: Record<string, unknown>;
  driverKey: string | null;
  /** Driver devices: the commands and latest metrics their driver announced (set by the driver transport). */
  commands?: DeviceCommand[];
  metrics?: DeviceMetric[];
}

export const DEFAULT_HEARTBEAT_SEC = 30;

export function summarize(d: LiveDevice): DeviceSummary {
  return {
    id: d.id,
    name: d.name,
    type: d.type,
    transport: d.transport,
    online: d.online,
    lastSeen: d.lastSeen,
    firmwareVersion: d.firmwareVersion,
    state: d.state,
    createdAt: d.createdAt,
    ...(d.commands ? { commands: d.commands } : {}),
    ...(d.metrics ? { metrics: d.metrics } : {}),
  };
}

function fromRow(row: DeviceRow, state: string | undefined): LiveDevice {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    transport: row.transport,
    credentialHash: row.credential_hash,
    firmwareVersion: row.firmware_version,
    // Nobody is online until it says so after a (re)start.
    online: false,
    lastSeen: row.last_seen,
    heartbeatSec: row.heartbeat_sec ?? DEFAULT_HEARTBEAT_SEC,
    createdAt: row.created_at,
    state: state ? (JSON.parse(state) as Record<string, unknown>) : {},
    driverKey: row.driver_key,
  };
}

/** A device id has no '-', so `<deviceId>-<suffix>` client ids can never name another device. */
export function newDeviceId(): string {
  return `dev_${randomBytes(6).toString("hex")}`;
}

export interface RegistryDeps {
  db: Kysely<Database>;
  clock: Clock;
  bus: EventBus<StationEvents>;
  writer: BatchedWriter;
}

/** The device registry: rows in SQLite, live facts (online, state) in memory. */
export function createDeviceRegistry(deps: RegistryDeps) {
  const { db, clock, bus, writer } = deps;
  const devices = new Map<string, LiveDevice>();

  async function loadOne(id: string): Promise<LiveDevice | undefined> {
    const row = await db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const st = await db
      .selectFrom("device_state")
      .select("state")
      .where("device_id", "=", id)
      .executeTakeFirst();
    const live = fromRow(row, st?.state);
    devices.set(id, live);
    return live;
  }

  return {
    async load() {
      const rows = await db.selectFrom("devices").selectAll().execute();
      const states = await db.selectFrom("device_state").select(["device_id", "state"]).execute();
      const byId = new Map(states.map((s) => [s.device_id, s.state]));
      devices.clear();
      for (const row of rows) devices.set(row.id, fromRow(row, byId.get(row.id)));
    },

    /** Creates a device with a fresh credential; the plain credential is returned once. */
    async create(input: {
      name: string;
      type: string;
      transport?: Transport;
      driverKey?: string;
      id?: string;
    }) {
      const type = deviceTypeSchema.safeParse(input.type);
      if (!type.success && input.transport !== "driver") {
        throw new StationError(
          "VALIDATION_ERROR",
          `unknown device type ${input.type}; see GET /api/device-types`,
        );
      }
      const id = input.id ?? newDeviceId();
      const token = input.transport === "driver" ? null : generateToken(24);
      const row = {
        id,
        name: input.name,
        type: (type.success ? type.data : input.type) as DeviceType,
        transport: input.transport ?? "mqtt",
        credential_hash: token ? hashToken(token) : null,
        firmware_version: null,
        online: 0,
        last_seen: null,
        heartbeat_sec: null,
        driver_key: input.driverKey ?? null,
        created_at: clock.now(),
      };
      await db.insertInto("devices").values(row).execute();
      const live = fromRow(row, undefined);
      devices.set(id, live);
      bus.emit("device.added", { device: summarize(live) });
      return { device: live, token };
    },

    get: (id: string) => devices.get(id),

    /** Finds a device, reloading from the database for one added by another process (`device add`). */
    async find(id: string): Promise<LiveDevice | undefined> {
      return devices.get(id) ?? (await loadOne(id));
    },

    async require(id: string): Promise<LiveDevice> {
      const d = devices.get(id) ?? (await loadOne(id));
      if (!d) throw new StationError("NOT_FOUND", `no device ${id}`);
      return d;
    },

    async list(): Promise<LiveDevice[]> {
      // Pick up devices created by the CLI while the station runs; while the database is
      // unreachable (storage trouble), what is in memory is the answer.
      try {
        const ids = await db.selectFrom("devices").select("id").execute();
        for (const { id } of ids) if (!devices.has(id)) await loadOne(id);
      } catch (err) {
        if (!storageTrouble(err)) throw err;
      }
      return [...devices.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    all: () => devices.values(),

    async rename(id: string, name: string) {
      const d = await this.require(id);
      await db.updateTable("devices").set({ name }).where("id", "=", id).execute();
      d.name = name;
      bus.emit("device.renamed", { deviceId: id, name });
      return d;
    },

    /** Another instance of the station added or changed a device and stored it: read it again. */
    reload: (id: string) => loadOne(id),

    /** Another instance removed a device (and its rows): forget it here, writing nothing. */
    async forget(id: string): Promise<LiveDevice | undefined> {
      const d = devices.get(id);
      devices.delete(id);
      await writer.forgetDevice(id);
      return d;
    },

    /** Deletes the device and everything stored about it; its credential stops working at once. */
    async remove(id: string) {
      const d = await this.require(id);
      devices.delete(id);
      await writer.forgetDevice(id);
      await db.deleteFrom("devices").where("id", "=", id).execute();
      bus.emit("device.removed", { deviceId: id, type: d.type });
      return d;
    },

    /** Constant-time credential check used by the broker and /ws/iot. */
    async verifyCredential(id: string, token: string): Promise<boolean> {
      const d = devices.get(id) ?? (await loadOne(id));
      return Boolean(d?.credentialHash && tokenMatchesHash(token, d.credentialHash));
    },
  };
}

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;
