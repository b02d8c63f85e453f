import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Database } from "../storage/index.ts";
import type { StationTokenStore } from "./cloud-link.ts";

const SEALED_PREFIX = "v1:";

/**
 * The station token in the single `cloud_config` row, sealed with AES-256-GCM under a key
 * derived from the station's JWT secret (a 0600 file or env, never in the database): the
 * database file is group-readable (0640) and goes into backups, the token must not be. A token
 * that no longer opens (the JWT secret changed, e.g. a restore on another machine) reads as
 * absent, so the station claims again. It is never logged.
 */
export function createStationTokenStore(
  db: Kysely<Database>,
  clock: Clock,
  secret: string,
  logger?: Logger,
): StationTokenStore {
  const key = Buffer.from(hkdfSync("sha256", secret, "opengenie", "cloud station token v1", 32));
  let warned = false;
  return {
    async read() {
      const row = await db.selectFrom("cloud_config").select("station_token").executeTakeFirst();
      if (!row?.station_token) return undefined;
      const token = openToken(key, row.station_token);
      if (token === undefined && !warned) {
        warned = true;
        logger?.warn(
          "cloud link: the stored station token cannot be opened with this JWT secret; claiming again",
        );
      }
      return token;
    },
    async store(token) {
      const now = clock.now();
      const sealed = sealToken(key, token);
      await db
        .insertInto("cloud_config")
        .values({ id: 1, station_token: sealed, claimed_at: now, updated_at: now })
        .onConflict((oc) =>
          oc.column("id").doUpdateSet({ station_token: sealed, claimed_at: now, updated_at: now }),
        )
        .execute();
    },
  };
}

export function sealToken(key: Buffer, token: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return `${SEALED_PREFIX}${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
}

export function openToken(key: Buffer, stored: string): string | undefined {
  if (!stored.startsWith(SEALED_PREFIX)) return undefined;
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), "base64");
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
