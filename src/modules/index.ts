export type { DecodedFrame, ModuleEncoding } from "./module-codec.ts";
export { decodeModuleFrame, encodeModuleFrame, OutgoingEvent } from "./module-codec.ts";
export type { ModuleHub } from "./module-hub.ts";
export { createModuleHub } from "./module-hub.ts";
export type { ModuleHubCounters, ModuleHubDeps, ModuleHubLimits } from "./module-hub-limits.ts";
export { DEFAULT_MODULE_HUB_LIMITS } from "./module-hub-limits.ts";
export type { ModuleHubModuleDeps } from "./module-hub-module.ts";
export { createModuleHubModule } from "./module-hub-module.ts";
export type { HubMember, ModulePeerLimits, ModuleSocketData } from "./module-peer.ts";
export { ModulePeer } from "./module-peer.ts";
export type { RouteIdentity, RouteRequest, RoutingPeer } from "./module-routing.ts";
export {
  collectDestinations,
  isDevtoolsPeer,
  matchesDestination,
  matchesDestinations,
  matchesGlob,
  matchesLabelSelector,
  matchesLabelSelectors,
  matchesRouteExpression,
  peerMatchesPolicy,
  routeIdentityOf,
  routeRecipients,
} from "./module-routing.ts";
export { DEVICE_COMMAND_EVENT, STATION_MODULE_NAME } from "./station-as-module.ts";
