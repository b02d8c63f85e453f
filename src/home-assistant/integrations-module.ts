import { lazyRoutes } from "../http/index.ts";
import type { StationModule } from "../station-module.ts";
import type { IntegrationStore } from "./integration-store.ts";

/** `GET /api/integrations`, for the web app's station page (read-only: logins are made with the CLI). */
export function createIntegrationsModule(deps: {
  store: IntegrationStore;
  homeAssistant: { enabled: boolean; prefix: string };
}): StationModule {
  return {
    name: "integrations",
    routes: [
      lazyRoutes(["/integrations"], async () =>
        (await import("./integration-routes.ts")).integrationRoutes(deps),
      ),
    ],
  };
}
