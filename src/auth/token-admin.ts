import type { Kysely } from "kysely";
import type { Clock } from "../core/index.ts";
import { StationError } from "../core/index.ts";
import type { AccessTokenInfo } from "../protocol/index.ts";
import type { Database } from "../storage/index.ts";
import type { AuthService, Principal } from "./auth-service.ts";
import { hasRole } from "./roles.ts";

export interface TokenAdminDeps {
  db: Kysely<Database>;
  auth: AuthService;
  clock: Clock;
}

const DAY_MS = 86_400_000;

/**
 * Long-lived access tokens (sessions of kind "token") as `/api/tokens` manages them: everyone
 * lists, makes and revokes their own; an admin lists and revokes everyone's.
 */
export function createTokenAdmin(deps: TokenAdminDeps) {
  const { db, auth, clock } = deps;

  function live() {
    return db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select([
        "sessions.id",
        "sessions.label",
        "sessions.user_id",
        "users.username",
        "sessions.created_at",
        "sessions.expires_at",
        "sessions.last_seen_at",
      ])
      .where("sessions.kind", "=", "token")
      .where("sessions.revoked_at", "is", null)
      .where("sessions.expires_at", ">", clock.now());
  }

  type Row = Awaited<ReturnType<ReturnType<typeof live>["executeTakeFirstOrThrow"]>>;
  const toInfo = (r: Row): AccessTokenInfo => ({
    id: r.id,
    label: r.label ?? "",
    userId: r.user_id,
    username: r.username,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastSeenAt: r.last_seen_at ?? null,
  });

  /** A token the actor may see: their own, or any for an admin. */
  async function visible(actor: Principal, id: string): Promise<Row | undefined> {
    let query = live().where("sessions.id", "=", id);
    if (!hasRole(actor.role, "admin")) query = query.where("sessions.user_id", "=", actor.userId);
    return query.executeTakeFirst();
  }

  return {
    async list(actor: Principal): Promise<AccessTokenInfo[]> {
      let query = live().orderBy("sessions.created_at", "desc");
      if (!hasRole(actor.role, "admin")) query = query.where("sessions.user_id", "=", actor.userId);
      return (await query.execute()).map(toInfo);
    },

    /** A token for the actor themselves; the access token is returned only here. */
    async create(actor: Principal, label: string, ttlDays: number) {
      const user = await db
        .selectFrom("users")
        .select("username")
        .where("id", "=", actor.userId)
        .executeTakeFirst();
      if (!user) throw new StationError("FORBIDDEN", "only a user account can hold long-lived tokens");
      const { accessToken, sessionId } = await auth.createLongLivedToken(
        user.username,
        ttlDays * DAY_MS,
        label,
      );
      const row = await visible(actor, sessionId);
      if (!row) throw new Error(`token ${sessionId} vanished as it was made`);
      return { token: toInfo(row), accessToken };
    },

    /** Revokes a token; apps using it are closed with 4003. Another user's token is unknown here. */
    async revoke(actor: Principal, id: string): Promise<void> {
      if (!(await visible(actor, id))) throw new StationError("NOT_FOUND", `no token with id ${id}`);
      await auth.revokeSession(id);
    },
  };
}

export type TokenAdmin = ReturnType<typeof createTokenAdmin>;
