import type { Kysely } from "kysely";
import type { EventBus, StationEvents } from "../core/index.ts";
import { StationError } from "../core/index.ts";
import type { Database } from "../storage/index.ts";
import type { AuthService, Principal, PublicUser } from "./auth-service.ts";
import type { Role } from "./roles.ts";

export interface UserAdminDeps {
  db: Kysely<Database>;
  auth: AuthService;
  bus?: EventBus<StationEvents>;
}

const manager = (role: Role) => role === "owner" || role === "admin";

/**
 * Changing roles and removing users (PATCH and DELETE /api/users/{id}), with the rules that keep
 * a station manageable: only an owner gives or takes owner and admin, and the last owner can be
 * neither demoted nor removed. Changes run one at a time, so two owners demoting each other at
 * the same moment cannot leave the station without one.
 */
export function createUserAdmin(deps: UserAdminDeps) {
  const { db, auth } = deps;
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  async function find(userId: string) {
    const row = await db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
    if (!row) throw new StationError("NOT_FOUND", `no user with id ${userId}`);
    return row;
  }

  async function ownerCount(): Promise<number> {
    const row = await db
      .selectFrom("users")
      .select(db.fn.countAll<number>().as("n"))
      .where("role", "=", "owner")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  return {
    changeRole(actor: Principal, userId: string, role: Role): Promise<PublicUser> {
      return serialized(async () => {
        const user = await find(userId);
        if ((manager(user.role) || manager(role)) && actor.role !== "owner")
          throw new StationError("FORBIDDEN", "only an owner gives or takes the owner and admin roles");
        if (user.role === "owner" && role !== "owner" && (await ownerCount()) <= 1)
          throw new StationError(
            "CONFLICT",
            `${user.username} is the last owner; make another user owner first`,
          );
        if (role !== user.role) {
          await db.updateTable("users").set({ role }).where("id", "=", userId).execute();
          auth.forgetCachedUser(userId);
          deps.bus?.emit("user.role_changed", { userId, role });
        }
        return { id: user.id, username: user.username, role, createdAt: user.created_at };
      });
    },

    /** Removes a user; every session of theirs is revoked first, so their sockets close with 4003. */
    remove(actor: Principal, userId: string): Promise<void> {
      return serialized(async () => {
        const user = await find(userId);
        // Leaving is always allowed (but for the last owner, below): it gives no one more power.
        if (manager(user.role) && actor.role !== "owner" && actor.userId !== userId)
          throw new StationError("FORBIDDEN", "only an owner removes owners and admins");
        if (user.role === "owner" && (await ownerCount()) <= 1)
          throw new StationError(
            "CONFLICT",
            `${user.username} is the last owner; make another user owner first`,
          );
        await auth.revokeUserSessions(userId);
        // Sessions go with the user (ON DELETE CASCADE).
        await db.deleteFrom("users").where("id", "=", userId).execute();
        auth.forgetCachedUser(userId);
        deps.bus?.emit("user.removed", { userId });
      });
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
