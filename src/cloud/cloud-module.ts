import type { Kysely } from "kysely";
import type { StationConfig } from "../config/index.ts";
import { cloudRoutes } from "../http/index.ts";
import type { StationModule } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import { cloudStatus } from "./cloud-status.ts";

/** The cloud link's place in the station; today only its truthful status (CONTRACT.md section 7). */
export function createCloudModule(deps: { db: Kysely<Database>; config: Pick<StationConfig, "cloudUrl"> }) {
  return {
    name: "cloud",
    routes: [cloudRoutes(() => cloudStatus(deps.db, deps.config))],
  } satisfies StationModule;
}
