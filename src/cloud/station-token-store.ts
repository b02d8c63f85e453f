import type { Kysely } from "kysely";
import type { Clock } from "../core/index.ts";
import type { Database } from "../storage/index.ts";
import type { StationTokenStore } from "./cloud-link.ts";

/**
 * The station token in the single `cloud_config` row. The database file is not readable by
 * group or others (storage/open-database.ts), and the token is never logged.
 */
export function createStationTokenStore(db: Kysely<Database>, clock: Clock): StationTokenStore {
  return {
    async read() {
      const row = await db.selectFrom("cloud_config").select("station_token").executeTakeFirst();
      return row?.station_token ?? undefined;
    },
    async store(token) {
      const now = clock.now();
      await db
        .insertInto("cloud_config")
        .values({ id: 1, station_token: token, claimed_at: now, updated_at: now })
        .onConflict((oc) =>
          oc.column("id").doUpdateSet({ station_token: token, claimed_at: now, updated_at: now }),
        )
        .execute();
    },
  };
}
