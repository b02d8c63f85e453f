import type { StationConfig } from "../config/index.ts";
import type { CloudLinkStatus, StationTokenStore } from "./cloud-link.ts";

/** `GET /api/cloud/status` (CONTRACT.md section 2): the link's state as the link last saw it. */
export async function cloudStatus(
  tokens: Pick<StationTokenStore, "read">,
  config: Pick<StationConfig, "cloudUrl">,
  link: CloudLinkStatus = { connected: false },
) {
  // Claimed means a token this station can use: one sealed under another JWT secret is not.
  const token = await tokens.read();
  return {
    configured: Boolean(config.cloudUrl),
    connected: link.connected,
    claimed: token !== undefined,
    ...(link.lastError ? { lastError: link.lastError } : {}),
    ...(link.lastConnectedAt ? { lastConnectedAt: link.lastConnectedAt } : {}),
  };
}
