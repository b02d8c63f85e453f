import { lazyRoutes } from "../http/index.ts";
import type { StationModule } from "../station-module.ts";
import { createSetupService, type SetupServiceDeps } from "./setup-service.ts";

/** First run: `GET|POST /api/setup` and the one-time code in `<data-dir>/setup-code` (issue 15). */
export function createSetupModule(deps: SetupServiceDeps) {
  const setup = createSetupService(deps);
  return {
    name: "setup",
    critical: true,
    routes: [lazyRoutes(["/setup"], async () => (await import("./setup-routes.ts")).setupRoutes(setup))],
    start: () => setup.start(),
  } satisfies StationModule;
}
