import { randomUUID } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { type Clock, StationError } from "../core/index.ts";
import type { CloudMember, IdentityMessage } from "../protocol/index.ts";
import type { Database } from "../storage/index.ts";

/**
 * A cloud member without a password hash cannot sign in on the LAN: no argon2 or bcrypt hash
 * starts with "!", so every check against it fails.
 */
const NO_LOCAL_PASSWORD = "!cloud-member";
export const STATION_NAME_KEY = "station_name";

type Tx = Transaction<Database>;

async function liveSessions(tx: Tx, userId: string, kind?: "login"): Promise<string[]> {
  let query = tx
    .selectFrom("sessions")
    .select("id")
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null);
  if (kind) query = query.where("kind", "=", kind);
  return (await query.execute()).map((r) => r.id);
}

async function userByCloudId(tx: Tx, cloudUserId: string) {
  return tx.selectFrom("users").selectAll().where("cloud_user_id", "=", cloudUserId).executeTakeFirst();
}

async function setStationName(tx: Tx, name: string) {
  await tx
    .insertInto("station_meta")
    .values({ key: STATION_NAME_KEY, value: name })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: name }))
    .execute();
}

/**
 * Inserts or updates the local user linked to `member.cloudUserId`. A local user of the same
 * name not linked to anyone is adopted (the owner made on the LAN before the claim); a name
 * taken by another cloud member is a conflict, and the whole message is rolled back.
 */
async function upsertMember(tx: Tx, member: Partial<CloudMember> & { cloudUserId: string }, now: number) {
  const existing = await userByCloudId(tx, member.cloudUserId);
  if (member.username !== undefined && member.username !== existing?.username) {
    const holder = await tx
      .selectFrom("users")
      .select(["id", "cloud_user_id"])
      .where("username", "=", member.username)
      .executeTakeFirst();
    if (holder && (holder.cloud_user_id !== null || existing)) {
      throw new StationError("CONFLICT", `username ${member.username} belongs to another user`);
    }
    if (holder && !existing) {
      await tx
        .updateTable("users")
        .set({
          cloud_user_id: member.cloudUserId,
          ...(member.role ? { role: member.role } : {}),
          ...(member.passwordHash ? { password_hash: member.passwordHash } : {}),
        })
        .where("id", "=", holder.id)
        .execute();
      return;
    }
  }
  if (existing) {
    const patch = {
      ...(member.username ? { username: member.username } : {}),
      ...(member.role ? { role: member.role } : {}),
      ...(member.passwordHash ? { password_hash: member.passwordHash } : {}),
    };
    if (Object.keys(patch).length > 0)
      await tx.updateTable("users").set(patch).where("id", "=", existing.id).execute();
    return;
  }
  if (!member.username || !member.role)
    throw new StationError("NOT_FOUND", `no member ${member.cloudUserId} to update`);
  await tx
    .insertInto("users")
    .values({
      id: randomUUID(),
      username: member.username,
      role: member.role,
      password_hash: member.passwordHash ?? NO_LOCAL_PASSWORD,
      cloud_user_id: member.cloudUserId,
      created_at: now,
    })
    .execute();
}

/**
 * Applies one identity message (CONTRACT.md section 7) in one transaction: it changes
 * everything or nothing. Returns the sessions it revoked, for the caller to announce once the
 * transaction has committed (so their sockets close, 4003). `station_reset` is not handled here.
 */
export async function applyIdentityMessage(
  db: Kysely<Database>,
  clock: Clock,
  message: Exclude<IdentityMessage, { type: "station_reset" }>,
): Promise<{ revokedSessions: string[]; removedUser?: string }> {
  const now = clock.now();
  return db.transaction().execute(async (tx) => {
    const revokedSessions: string[] = [];
    let removedUser: string | undefined;
    switch (message.type) {
      case "identity_sync": {
        if (message.stationName) await setStationName(tx, message.stationName);
        for (const member of message.members) await upsertMember(tx, member, now);
        if (message.ownerCloudUserId) {
          const owner = await userByCloudId(tx, message.ownerCloudUserId);
          if (!owner) throw new StationError("NOT_FOUND", "the owner is not among the members");
          await tx.updateTable("users").set({ role: "owner" }).where("id", "=", owner.id).execute();
        }
        break;
      }
      case "station_renamed":
        await setStationName(tx, message.name);
        break;
      case "member_added":
        await upsertMember(tx, message.member, now);
        break;
      case "member_updated":
        await upsertMember(tx, message.member, now);
        break;
      case "member_removed": {
        const user = await userByCloudId(tx, message.cloudUserId);
        if (!user) break;
        revokedSessions.push(...(await liveSessions(tx, user.id)));
        // Its sessions go with it (ON DELETE CASCADE), so no token of it works again.
        await tx.deleteFrom("users").where("id", "=", user.id).execute();
        removedUser = user.id;
        break;
      }
      case "station_password_changed": {
        const user = await userByCloudId(tx, message.cloudUserId);
        if (!user) throw new StationError("NOT_FOUND", `no member ${message.cloudUserId}`);
        await tx
          .updateTable("users")
          .set({ password_hash: message.passwordHash })
          .where("id", "=", user.id)
          .execute();
        // Sign-ins made with the old password end; long-lived tokens a person created stay.
        const sessions = await liveSessions(tx, user.id, "login");
        if (sessions.length > 0)
          await tx.updateTable("sessions").set({ revoked_at: now }).where("id", "in", sessions).execute();
        revokedSessions.push(...sessions);
        break;
      }
    }
    return { revokedSessions, ...(removedUser ? { removedUser } : {}) };
  });
}
