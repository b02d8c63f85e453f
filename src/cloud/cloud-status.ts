import type { Kysely } from "kysely";
import type { StationConfig } from "../config/index.ts";
import type { Database } from "../storage/index.ts";
import type { CloudLinkStatus } from "./cloud-link.ts";

/** `GET /api/cloud/status` (CONTRACT.md section 2): the link's state as the link last saw it. */
export async function cloudStatus(
  db: Kysely<Database>,
  config: Pick<StationConfig, "cloudUrl">,
  link: CloudLinkStatus = { connected: false },
) {
  const row = await db.selectFrom("cloud_config").select("station_token").executeTakeFirst();
  return {
    configured: Boolean(config.cloudUrl),
    connected: link.connected,
    claimed: Boolean(row?.station_token),
    ...(link.lastError ? { lastError: link.lastError } : {}),
    ...(link.lastConnectedAt ? { lastConnectedAt: link.lastConnectedAt } : {}),
  };
}
