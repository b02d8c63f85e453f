import { randomUUID } from "node:crypto";
import { z } from "zod";
import { createAccessTokenCodec, LOCAL_CLI_AUDIENCE } from "../auth/index.ts";
import type { StationConfig } from "../config/index.ts";
import { type CheckResult, fail, ok, skip, warn } from "./check.ts";

const cloudStatusSchema = z.object({
  configured: z.boolean(),
  connected: z.boolean(),
  claimed: z.boolean(),
  lastError: z.string().optional(),
  lastConnectedAt: z.number().optional(),
});

/** What to do about the link's last error (docs/cloud.md). */
function cloudFix(lastError: string, claimed: boolean): string {
  if (lastError.includes("refused"))
    return claimed
      ? "the cloud no longer accepts this station's token: remove the station in the cloud app and claim it again"
      : "check OPENGENIE_CLOUD_CLAIM_SECRET against the one the cloud app shows";
  if (lastError.includes("OPENGENIE_CLOUD_CLAIM_SECRET"))
    return "set OPENGENIE_CLOUD_CLAIM_SECRET (sudo systemctl edit opengenie) and restart";
  if (/certificate|CA|tls|ssl/i.test(lastError))
    return "a private cloud needs OPENGENIE_CLOUD_CA=<its CA's PEM file>; check the clock too";
  return "check OPENGENIE_CLOUD_URL and that this machine reaches the internet; the station keeps retrying";
}

/** `opengenie doctor`'s line for the cloud link, read from the running station. */
export async function cloudCheck(
  httpUrl: string,
  config: Pick<StationConfig, "jwtSecret">,
): Promise<CheckResult> {
  try {
    // A one-minute token signed with the data dir's secret, as every local CLI command uses.
    const token = await createAccessTokenCodec(config.jwtSecret).sign(
      { sub: LOCAL_CLI_AUDIENCE, sid: `cli:${randomUUID()}`, role: "admin", aud: LOCAL_CLI_AUDIENCE },
      Date.now() + 60_000,
    );
    const res = await fetch(`${httpUrl}/api/cloud/status`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    const status = cloudStatusSchema.parse(await res.json());
    if (!status.configured) return skip("cloud", "cloud link", "not configured (OPENGENIE_CLOUD_URL unset)");
    if (status.connected) {
      const since = status.lastConnectedAt ? ` since ${new Date(status.lastConnectedAt).toISOString()}` : "";
      return ok("cloud", "cloud link", `connected and claimed${since}`);
    }
    const error = status.lastError ?? "not connected yet";
    return (status.claimed ? fail : warn)("cloud", "cloud link", error, cloudFix(error, status.claimed));
  } catch (err) {
    return warn("cloud", "cloud link", `status unavailable: ${(err as Error).message}`);
  }
}
