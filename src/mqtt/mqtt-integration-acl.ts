/**
 * What an integration login (`opengenie integration add`, e.g. Home Assistant) may do on the
 * embedded broker (CONTRACT.md section 9): read the discovery prefix and the bridge's own
 * topics, write the bridge's command topics and `<prefix>/status`; nothing of the device
 * topics (`station/…`), nothing of another station. Pure functions, unit-tested without a socket.
 */
import { isValidTopicLevel } from "./mqtt-topics.ts";

/** Integration usernames start with this; device ids (`dev_…`) never contain '-'. */
export const INTEGRATION_USERNAME_PREFIX = "integration-";

/** The Home Assistant bridge's own topics: `opengenie/{stationId}/…`. */
export function bridgeBase(stationId: string): string {
  return `opengenie/${stationId}`;
}

export interface IntegrationScope {
  stationId: string;
  /** The discovery prefix, e.g. `homeassistant`. */
  prefix: string;
}

/** True when `filter` lies under `root` (whose levels are matched literally, no wildcards). */
function under(root: string, filter: string): boolean {
  const rootLevels = root.split("/");
  const levels = filter.split("/");
  if (levels.length <= rootLevels.length) return false;
  return rootLevels.every((level, i) => levels[i] === level);
}

export function mayIntegrationSubscribe(scope: IntegrationScope, filter: string): boolean {
  return under(scope.prefix, filter) || under(bridgeBase(scope.stationId), filter);
}

/** Exact topics only: `<prefix>/status` and `opengenie/{stationId}/device/{id}/set[/<field>]`. */
export function mayIntegrationPublish(scope: IntegrationScope, topic: string): boolean {
  if (topic === `${scope.prefix}/status`) return true;
  const base = bridgeBase(scope.stationId).split("/");
  const levels = topic.split("/");
  if (!base.every((level, i) => levels[i] === level)) return false;
  const rest = levels.slice(base.length);
  if (rest[0] !== "device" || rest[2] !== "set" || !isValidTopicLevel(rest[1] ?? "")) return false;
  return rest.length === 3 || (rest.length === 4 && isValidTopicLevel(rest[3]!));
}
