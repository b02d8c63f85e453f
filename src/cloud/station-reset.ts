import type { Kysely } from "kysely";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Database } from "../storage/index.ts";

/**
 * The exit code after `station_reset`: EX_TEMPFAIL (sysexits.h), non-zero so the systemd unit's
 * `Restart=on-failure` starts the station again, unclaimed (docs/cloud.md).
 */
export const STATION_RESET_EXIT_CODE = 75;

/**
 * `station_reset` (CONTRACT.md section 7): wipe the claim, send `factory_reset` to every
 * device, flush what is pending, then ask the process to exit so systemd restarts it clean.
 */
export async function resetStation(deps: {
  db: Kysely<Database>;
  devices: DeviceService;
  logger: Logger;
  requestExit(code: number): void;
}) {
  const { db, devices, logger } = deps;
  await db.deleteFrom("cloud_config").execute();
  const all = await devices.registry.list();
  const results = await Promise.allSettled(all.map((d) => devices.commands.send(d.id, "factory_reset", {})));
  results.forEach((r, i) => {
    if (r.status === "rejected")
      logger.warn("station reset: factory_reset not delivered", {
        deviceId: all[i]!.id,
        reason: (r.reason as Error).message,
      });
  });
  await devices.writer.flush();
  logger.warn("station reset by the cloud: claim wiped, devices reset; exiting for a clean restart", {
    exitCode: STATION_RESET_EXIT_CODE,
  });
  deps.requestExit(STATION_RESET_EXIT_CODE);
}
