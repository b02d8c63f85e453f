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
type Role = CloudMember["role"];

/** What a message changed about existing users, for the caller to announce after the commit. */
interface Changes {
  /** Users whose role changed: their open sockets and cached sessions must learn it. */
  roles: Map<string, Role>;
  /** Users whose password changed: their sign-ins end. */
  passwords: Set<string>;
}

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
async function upsertMember(
  tx: Tx,
  member: Partial<CloudMember> & { cloudUserId: string },
  now: number,
  changes: Changes,
) {
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
      const adopted = await tx
        .selectFrom("users")
        .select(["role", "password_hash"])
        .where("id", "=", holder.id)
        .executeTakeFirstOrThrow();
      noteChanges(changes, holder.id, adopted, member);
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
    noteChanges(changes, existing.id, existing, member);
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

function noteChanges(
  changes: Changes,
  userId: string,
  before: { role: Role; password_hash: string },
  member: Partial<CloudMember>,
) {
  if (member.role && member.role !== before.role) changes.roles.set(userId, member.role);
  if (member.passwordHash && member.passwordHash !== before.password_hash) changes.passwords.add(userId);
}

/** Revokes the sign-ins (not the tokens a person created) of users whose password changed. */
async function endSignIns(tx: Tx, userIds: Iterable<string>, now: number): Promise<string[]> {
  const revoked: string[] = [];
  for (const userId of userIds) {
    const sessions = await liveSessions(tx, userId, "login");
    if (sessions.length > 0)
      await tx.updateTable("sessions").set({ revoked_at: now }).where("id", "in", sessions).execute();
    revoked.push(...sessions);
  }
  return revoked;
}

/**
 * Applies one identity message (CONTRACT.md section 7) in one transaction: it changes
 * everything or nothing. Returns what the caller announces once the transaction has committed:
 * the sessions it revoked (their sockets close, 4003; a password changed by any message ends
 * that user's sign-ins), the users whose role changed (their open sockets and cached sessions
 * take the new role at once), and a removed user. `station_reset` is not handled here.
 */
export async function applyIdentityMessage(
  db: Kysely<Database>,
  clock: Clock,
  message: Exclude<IdentityMessage, { type: "station_reset" }>,
): Promise<{
  revokedSessions: string[];
  roleChanges: { userId: string; role: Role }[];
  removedUser?: string;
}> {
  const now = clock.now();
  return db.transaction().execute(async (tx) => {
    const changes: Changes = { roles: new Map(), passwords: new Set() };
    switch (message.type) {
      case "identity_sync": {
        if (message.stationName) await setStationName(tx, message.stationName);
        for (const member of message.members) await upsertMember(tx, member, now, changes);
        if (message.ownerCloudUserId) {
          const owner = await userByCloudId(tx, message.ownerCloudUserId);
          if (!owner) throw new StationError("NOT_FOUND", "the owner is not among the members");
          await tx.updateTable("users").set({ role: "owner" }).where("id", "=", owner.id).execute();
          if (owner.role !== "owner") changes.roles.set(owner.id, "owner");
        }
        break;
      }
      case "station_renamed":
        await setStationName(tx, message.name);
        break;
      case "member_added":
      case "member_updated":
        await upsertMember(tx, message.member, now, changes);
        break;
      case "member_removed": {
        const user = await userByCloudId(tx, message.cloudUserId);
        if (!user) break;
        const revokedSessions = await liveSessions(tx, user.id);
        // Its sessions go with it (ON DELETE CASCADE), so no token of it works again.
        await tx.deleteFrom("users").where("id", "=", user.id).execute();
        return { revokedSessions, roleChanges: [], removedUser: user.id };
      }
      case "station_password_changed": {
        const user = await userByCloudId(tx, message.cloudUserId);
        if (!user) throw new StationError("NOT_FOUND", `no member ${message.cloudUserId}`);
        await tx
          .updateTable("users")
          .set({ password_hash: message.passwordHash })
          .where("id", "=", user.id)
          .execute();
        changes.passwords.add(user.id);
        break;
      }
    }
    // Sign-ins made with the old password end; long-lived tokens a person created stay.
    const revokedSessions = await endSignIns(tx, changes.passwords, now);
    const roleChanges = [...changes.roles].map(([userId, role]) => ({ userId, role }));
    return { revokedSessions, roleChanges };
  });
}
