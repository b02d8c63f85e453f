export type { DiscoveryConfig, HaContext } from "./ha-discovery.ts";
export { deviceConfigs, haState, haTopics, stationConfigs } from "./ha-discovery.ts";
export type { HomeAssistantModuleDeps } from "./home-assistant-module.ts";
export { createHomeAssistantModule, homeAssistantWill } from "./home-assistant-module.ts";
export type { IntegrationInfo, IntegrationStore } from "./integration-store.ts";
export { createIntegrationStore, INTEGRATION_NAME_RULE, integrationUsername } from "./integration-store.ts";
export { createIntegrationsModule } from "./integrations-module.ts";
