import type { Kysely } from "kysely";
import type { StationConfig } from "../config/index.ts";
import type { Database } from "../storage/index.ts";

/**
 * `GET /api/cloud/status`. The cloud link itself (CONTRACT.md section 7) is not built yet, so
 * the status says so truthfully: configured or not, never connected, claimed if a token exists.
 */
export async function cloudStatus(db: Kysely<Database>, config: Pick<StationConfig, "cloudUrl">) {
  const row = await db.selectFrom("cloud_config").select("station_token").executeTakeFirst();
  return { configured: Boolean(config.cloudUrl), connected: false, claimed: Boolean(row?.station_token) };
}
