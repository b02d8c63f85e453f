import type { Kysely } from "kysely";
import type { DriverInfo } from "../protocol/index.ts";
import type { Database } from "../storage/index.ts";
import type { DriverSession } from "./driver-session.ts";

/** What a running station knows beyond the database: live sessions and presence. */
export interface LiveDriverFacts {
  sessions: readonly DriverSession[];
  online(deviceId: string): boolean | undefined;
}

/**
 * Every driver the station knows of (a token, a device or a live session), with its devices:
 * the body of `GET /api/drivers` and of `opengenie drivers --json`, whether or not a station runs.
 */
export async function listDrivers(db: Kysely<Database>, live?: LiveDriverFacts): Promise<DriverInfo[]> {
  const tokens = await db.selectFrom("drivers").select(["driver_key", "created_at"]).execute();
  const rows = await db
    .selectFrom("driver_devices")
    .innerJoin("devices", "devices.id", "driver_devices.device_id")
    .select([
      "devices.id",
      "devices.name",
      "devices.type",
      "devices.online",
      "devices.created_at",
      "driver_devices.driver_key",
      "driver_devices.driver_device_id",
      "driver_devices.instance_id",
    ])
    .orderBy("devices.created_at")
    .orderBy("devices.id")
    .execute();
  const drivers = new Map<string, DriverInfo>();
  const entry = (driverKey: string): DriverInfo => {
    let d = drivers.get(driverKey);
    if (!d) {
      d = { driverKey, tokenCreatedAt: null, sessions: [], devices: [] };
      drivers.set(driverKey, d);
    }
    return d;
  };
  for (const t of tokens) entry(t.driver_key).tokenCreatedAt = t.created_at;
  for (const s of live?.sessions ?? []) {
    entry(s.driverKey).sessions.push({
      instanceId: s.instanceId,
      ...(s.name ? { name: s.name } : {}),
      remoteAddress: s.remoteAddress,
      connectedAt: s.connectedAt,
      trustedLoopback: s.trustedLoopback,
    });
  }
  for (const r of rows) {
    entry(r.driver_key).devices.push({
      id: r.id,
      deviceId: r.driver_device_id,
      instanceId: r.instance_id,
      name: r.name,
      type: r.type,
      // The database holds what the station last wrote; a running station knows better.
      online: live?.online(r.id) ?? r.online === 1,
    });
  }
  return [...drivers.values()].sort((a, b) => a.driverKey.localeCompare(b.driverKey));
}
