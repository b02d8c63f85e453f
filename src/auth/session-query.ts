import type { Kysely } from "kysely";
import type { Database } from "../storage/index.ts";

/** A session and its user, as authenticate() checks them; undefined when the session is unknown. */
export function loadSessionPrincipal(db: Kysely<Database>, sid: string) {
  return db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .select([
      "sessions.id as sid",
      "sessions.revoked_at",
      "sessions.expires_at",
      "users.id",
      "users.username",
      "users.role",
    ])
    .where("sessions.id", "=", sid)
    .executeTakeFirst();
}
