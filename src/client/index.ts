export type {
  Channel,
  PushEventName,
  PushFrame as Push,
  SubscriptionFilter,
  SystemFrame,
  WelcomeFrame as Welcome,
} from "../protocol/index.ts";
export type { PushHandler } from "./client-subscriptions.ts";
export { parseServerFrame } from "./server-frames.ts";
export { createStationClient } from "./station-client.ts";
export type { ClientErrorCode } from "./station-client-error.ts";
export { StationClientError } from "./station-client-error.ts";
export type {
  ClientState,
  ClientSubscription,
  StationClient,
  StationClientOptions,
} from "./station-client-types.ts";
export { socketUrl } from "./upgrade-diagnosis.ts";
