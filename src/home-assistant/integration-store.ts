/**
 * MQTT logins for integrations such as Home Assistant on the embedded broker
 * (`opengenie integration add <name>`): the password is shown once and stored hashed; the
 * broker checks it at CONNECT in constant time (CONTRACT.md section 9).
 */
import type { Kysely } from "kysely";
import { generateToken, hashToken, tokenMatchesHash } from "../auth/index.ts";
import { type Clock, StationError } from "../core/index.ts";
import { INTEGRATION_USERNAME_PREFIX } from "../mqtt/index.ts";
import type { Database } from "../storage/index.ts";

export const INTEGRATION_NAME_RULE =
  "an integration name is 1-32 characters of a-z, 0-9, '_' and '-', starting with a letter or digit";
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface IntegrationInfo {
  name: string;
  username: string;
  createdAt: number;
}

export function integrationUsername(name: string): string {
  return `${INTEGRATION_USERNAME_PREFIX}${name}`;
}

export function createIntegrationStore(db: Kysely<Database>, clock: Clock) {
  return {
    /** Creates the login; the plain password is returned only here. */
    async add(name: string): Promise<IntegrationInfo & { password: string }> {
      if (!NAME.test(name))
        throw new StationError("VALIDATION_ERROR", `${INTEGRATION_NAME_RULE}; got '${name}'`);
      const existing = await db
        .selectFrom("integrations")
        .select("name")
        .where("name", "=", name)
        .executeTakeFirst();
      if (existing)
        throw new StationError(
          "CONFLICT",
          `integration ${name} exists; 'opengenie integration remove ${name}' first to make a new password`,
        );
      const password = generateToken(24);
      const row = {
        name,
        username: integrationUsername(name),
        credential_hash: hashToken(password),
        created_at: clock.now(),
      };
      await db.insertInto("integrations").values(row).execute();
      return { name, username: row.username, createdAt: row.created_at, password };
    },

    /** True when a login was removed. Open connections end at their next reconnect. */
    async remove(name: string): Promise<boolean> {
      const result = await db.deleteFrom("integrations").where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async list(): Promise<IntegrationInfo[]> {
      const rows = await db.selectFrom("integrations").selectAll().orderBy("name").execute();
      return rows.map((r) => ({ name: r.name, username: r.username, createdAt: r.created_at }));
    },

    /** The broker's check at CONNECT, read from the database each time (the CLI adds logins). */
    async verify(username: string, password: string): Promise<boolean> {
      const row = await db
        .selectFrom("integrations")
        .select("credential_hash")
        .where("username", "=", username)
        .executeTakeFirst();
      return Boolean(row && tokenMatchesHash(password, row.credential_hash));
    },
  };
}

export type IntegrationStore = ReturnType<typeof createIntegrationStore>;
