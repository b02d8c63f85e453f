import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import { StationError } from "../core/index.ts";
import type { Platform } from "../platform/index.ts";
import { type Database, storageTrouble } from "../storage/index.ts";
import {
  type AccessClaims,
  type AccessTokenCodec,
  createAccessTokenCodec,
  LOCAL_CLI_AUDIENCE,
} from "./access-tokens.ts";
import type { PasswordCheckGate } from "./password-check-gate.ts";
import type { Role } from "./roles.ts";
import { loadSessionPrincipal } from "./session-query.ts";

export const LOGIN_TTL_MS = 12 * 3_600_000;
const SESSION_CACHE_MS = 10_000;

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  sessionId: string;
  expiresAt: number;
}

export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  createdAt: number;
}

export interface AuthDeps {
  db: Kysely<Database>;
  platform: Platform;
  clock: Clock;
  jwtSecret: string;
  bus?: EventBus<StationEvents>;
  /** Bounds concurrent password checks; the CLI, alone on its database, needs none. */
  passwordChecks?: PasswordCheckGate;
}

/** A CLI command talks to the station for seconds; its token must not outlive that by much. */
export const LOCAL_CLI_TTL_MS = 60_000;

export const MIN_PASSWORD_LENGTH = 8;
/** The longest password sign-in accepts (POST /api/auth/login). */
export const MAX_PASSWORD_LENGTH = 1024;

const usernamePattern = /^[a-zA-Z0-9_.@-]{1,64}$/;

/** Users, sessions and access tokens. Every token is tied to a stored session so it can be revoked. */
export function createAuthService(deps: AuthDeps) {
  const { db, platform, clock } = deps;
  const codec: AccessTokenCodec = createAccessTokenCodec(deps.jwtSecret);
  // Sessions looked up recently, so a request does not cost a database query; revocation
  // through this service drops the entry at once, and entries live at most SESSION_CACHE_MS.
  const sessionCache = new Map<string, { at: number; principal: Principal }>();
  // Verifying against a real hash when the user does not exist keeps timing from revealing names.
  // Made on the first sign-in, not here: building the service does no work (STYLE.md).
  let dummyHash: Promise<string> | undefined;

  /** Sessions revoked in the database: forgotten by the cache and announced (sockets close 4003). */
  function announceRevoked(sessionIds: readonly string[]) {
    for (const sessionId of sessionIds) {
      sessionCache.delete(sessionId);
      deps.bus?.emit("session.revoked", { sessionId });
    }
  }

  function localCliPrincipal(claims: AccessClaims, now: number): Principal {
    const expiresAt = claims.exp * 1000;
    // Never stronger than admin, never long-lived, whoever signed it.
    if (claims.role === "owner" || expiresAt - now > LOCAL_CLI_TTL_MS + 5_000)
      throw new StationError("UNAUTHORIZED", "invalid token");
    return {
      userId: LOCAL_CLI_AUDIENCE,
      username: LOCAL_CLI_AUDIENCE,
      role: claims.role,
      sessionId: claims.sid,
      expiresAt,
    };
  }

  async function issue(
    user: { id: string; role: Role },
    kind: "login" | "token",
    ttlMs: number,
    label?: string,
  ) {
    const sessionId = randomUUID();
    const now = clock.now();
    const expiresAt = now + ttlMs;
    await db
      .insertInto("sessions")
      .values({
        id: sessionId,
        user_id: user.id,
        kind,
        label: label ?? null,
        created_at: now,
        expires_at: expiresAt,
        revoked_at: null,
      })
      .execute();
    const accessToken = await codec.sign({ sub: user.id, sid: sessionId, role: user.role }, expiresAt);
    return { accessToken, sessionId, expiresAt };
  }

  const loadSession = (sid: string) => loadSessionPrincipal(db, sid);

  return {
    async createUser(username: string, password: string, role: Role): Promise<PublicUser> {
      if (!usernamePattern.test(username)) {
        throw new StationError("VALIDATION_ERROR", "username must be 1-64 letters, digits or . _ @ -");
      }
      // The same bounds as sign-in, so every password set can also be used to sign in.
      if (password.length < MIN_PASSWORD_LENGTH || password.trim() === "")
        throw new StationError(
          "VALIDATION_ERROR",
          `password must be at least ${MIN_PASSWORD_LENGTH} characters, not all spaces`,
        );
      if (password.length > MAX_PASSWORD_LENGTH)
        throw new StationError(
          "VALIDATION_ERROR",
          `password must be at most ${MAX_PASSWORD_LENGTH} characters`,
        );
      const existing = await db
        .selectFrom("users")
        .select("id")
        .where("username", "=", username)
        .executeTakeFirst();
      if (existing) throw new StationError("ALREADY_EXISTS", `user ${username} already exists`);
      const user = { id: randomUUID(), username, role, created_at: clock.now() };
      await db
        .insertInto("users")
        .values({ ...user, password_hash: await platform.hashPassword(password) })
        .execute();
      return { id: user.id, username, role, createdAt: user.created_at };
    },

    async listUsers(): Promise<PublicUser[]> {
      const rows = await db.selectFrom("users").selectAll().orderBy("created_at").execute();
      return rows.map((r) => ({ id: r.id, username: r.username, role: r.role, createdAt: r.created_at }));
    },

    async countUsers(): Promise<number> {
      const row = await db
        .selectFrom("users")
        .select(db.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async login(username: string, password: string) {
      const user = await db
        .selectFrom("users")
        .selectAll()
        .where("username", "=", username)
        .executeTakeFirst();
      const check = async () => {
        if (!user) dummyHash ??= platform.hashPassword(randomUUID());
        return platform.verifyPassword(password, user?.password_hash ?? (await dummyHash!));
      };
      const ok = await (deps.passwordChecks ? deps.passwordChecks.run(check) : check());
      if (!user || !ok) throw new StationError("UNAUTHORIZED", "wrong username or password");
      const { accessToken, expiresAt } = await issue(user, "login", LOGIN_TTL_MS);
      return {
        accessToken,
        expiresIn: Math.round((expiresAt - clock.now()) / 1000),
        user: { id: user.id, username: user.username, role: user.role },
      };
    },

    /** A long-lived token for scripts and apps (`opengenie token create`). */
    async createLongLivedToken(username: string, ttlMs: number, label?: string) {
      const user = await db
        .selectFrom("users")
        .selectAll()
        .where("username", "=", username)
        .executeTakeFirst();
      if (!user)
        throw new StationError("NOT_FOUND", `no user named ${username}; create it with 'opengenie user add'`);
      return issue(user, "token", ttlMs, label);
    },

    /**
     * A short-lived admin token for an `opengenie` command on this machine, so that a command
     * that changes devices goes through the running station (which then tells every app) rather
     * than writing the database behind its back. Tied to no session: it expires within a minute.
     */
    async issueLocalCliToken(): Promise<string> {
      const expiresAt = clock.now() + LOCAL_CLI_TTL_MS;
      return codec.sign(
        { sub: LOCAL_CLI_AUDIENCE, sid: `cli:${randomUUID()}`, role: "admin", aud: LOCAL_CLI_AUDIENCE },
        expiresAt,
      );
    },

    /** Resolves a bearer token to its principal, or throws UNAUTHORIZED with the reason. */
    async authenticate(token: string | undefined | null): Promise<Principal> {
      if (!token) throw new StationError("UNAUTHORIZED", "missing access token");
      const result = await codec.verify(token, clock.now());
      if (!result.ok) throw new StationError("UNAUTHORIZED", result.reason);
      const now = clock.now();
      if (result.claims.aud === LOCAL_CLI_AUDIENCE) return localCliPrincipal(result.claims, now);
      const cached = sessionCache.get(result.claims.sid);
      if (cached && now - cached.at < SESSION_CACHE_MS && cached.principal.expiresAt > now) {
        if (cached.principal.userId === result.claims.sub) return cached.principal;
      }
      let row: Awaited<ReturnType<typeof loadSession>>;
      try {
        row = await loadSession(result.claims.sid);
      } catch (err) {
        const trouble = storageTrouble(err);
        if (!trouble) throw err;
        // The database is unreachable (a PostgreSQL restart, a full disk): a session seen
        // lately goes on being served from memory — revocations and role changes drop it from
        // the cache as they happen — and one never seen gets 503 with what to do.
        if (cached && cached.principal.userId === result.claims.sub && cached.principal.expiresAt > now)
          return cached.principal;
        throw new StationError(
          "UNAVAILABLE",
          `storage is unavailable (${trouble}); retry when /api/health reports storage ok`,
        );
      }
      if (!row || row.id !== result.claims.sub) throw new StationError("UNAUTHORIZED", "session not found");
      if (row.revoked_at !== null) throw new StationError("UNAUTHORIZED", "session revoked");
      if (row.expires_at <= clock.now()) throw new StationError("UNAUTHORIZED", "token expired");
      // The role comes from the database (cached at most SESSION_CACHE_MS), so a demotion applies within seconds.
      const principal: Principal = {
        userId: row.id,
        username: row.username,
        role: row.role,
        sessionId: row.sid,
        expiresAt: row.expires_at,
      };
      if (sessionCache.size > 10_000) sessionCache.clear();
      sessionCache.set(row.sid, { at: now, principal });
      return principal;
    },

    /** Records that an app on this session was last connected now (its socket closed). */
    async touchSession(sessionId: string): Promise<void> {
      await db
        .updateTable("sessions")
        .set({ last_seen_at: clock.now() })
        .where("id", "=", sessionId)
        .execute();
    },

    async revokeSession(sessionId: string): Promise<void> {
      sessionCache.delete(sessionId);
      await db.updateTable("sessions").set({ revoked_at: clock.now() }).where("id", "=", sessionId).execute();
      deps.bus?.emit("session.revoked", { sessionId });
    },

    /**
     * Sessions another service revoked or deleted in its own transaction (the cloud link's
     * identity messages): forgotten here at once and announced, so their sockets close (4003).
     */
    sessionsRevoked(sessionIds: readonly string[]): void {
      announceRevoked(sessionIds);
    },

    /** Revokes every live session of a user (e.g. removed); each one's /ws sockets close with 4003. */
    async revokeUserSessions(userId: string): Promise<number> {
      const live = await db
        .selectFrom("sessions")
        .select("id")
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .execute();
      if (live.length === 0) return 0;
      const ids = live.map((r) => r.id);
      await db.updateTable("sessions").set({ revoked_at: clock.now() }).where("id", "in", ids).execute();
      announceRevoked(ids);
      return ids.length;
    },

    /** Drops a user's cached sessions, so a role change applies to their very next request. */
    forgetCachedUser(userId: string): void {
      for (const [sid, entry] of sessionCache)
        if (entry.principal.userId === userId) sessionCache.delete(sid);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
