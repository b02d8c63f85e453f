import type { Kysely } from "kysely";
import { generateToken, hashToken } from "../auth/index.ts";
import type { Clock } from "../core/index.ts";
import type { Database } from "../storage/index.ts";

/** Driver tokens start with this, so one found in a log or a config file says what it is. */
const TOKEN_PREFIX = "ogd_";

/**
 * The `drivers` table: one token per driverKey, stored only as its sha256 (a 32-byte random
 * token needs no slow hash). A token is bound to its driverKey: finding the row by the token's
 * hash tells the station which driverKey the holder may register. A new token replaces the old.
 */
export function createDriverTokens(db: Kysely<Database>, clock: Pick<Clock, "now">) {
  return {
    /** Makes (or replaces) the driverKey's token; the plain token is returned this once. */
    async issue(driverKey: string): Promise<{ driverKey: string; token: string; createdAt: number }> {
      const token = `${TOKEN_PREFIX}${generateToken(32)}`;
      const createdAt = clock.now();
      await db
        .insertInto("drivers")
        .values({ driver_key: driverKey, token_hash: hashToken(token), created_at: createdAt })
        .onConflict((c) =>
          c.column("driver_key").doUpdateSet({ token_hash: hashToken(token), created_at: createdAt }),
        )
        .execute();
      return { driverKey, token, createdAt };
    },

    /** Deletes the driverKey's token; whether it had one. */
    async revoke(driverKey: string): Promise<boolean> {
      const result = await db.deleteFrom("drivers").where("driver_key", "=", driverKey).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** The driverKey a token belongs to, if it is a current one. */
    async driverKeyOf(token: string): Promise<string | undefined> {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 256) return undefined;
      // Looking a preimage-resistant hash up by equality reveals nothing a timing attack could use.
      const row = await db
        .selectFrom("drivers")
        .select("driver_key")
        .where("token_hash", "=", hashToken(token))
        .executeTakeFirst();
      return row?.driver_key;
    },

    async list(): Promise<{ driverKey: string; createdAt: number }[]> {
      const rows = await db.selectFrom("drivers").selectAll().orderBy("driver_key").execute();
      return rows.map((r) => ({ driverKey: r.driver_key, createdAt: r.created_at }));
    },
  };
}

export type DriverTokens = ReturnType<typeof createDriverTokens>;
