import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * The administration API the web app uses (issue 15, docs/admin-api.md): first-run setup,
 * users and roles, long-lived tokens, station facts and the doctor's checks.
 */

/** Strongest first (CONTRACT.md section 2): each role can do everything the ones below it can. */
export const userRoleSchema = deferred(() =>
  z.enum(["owner", "admin", "member", "guest"]).meta({ id: "Role" }),
);

export const usernameSchema = deferred(() =>
  z.string().regex(/^[a-zA-Z0-9_.@-]{1,64}$/, "1-64 letters, digits or . _ @ -"),
);
/** The same bounds as sign-in, so every password set can also be used to sign in. */
export const newPasswordSchema = deferred(() => z.string().min(8).max(1024));

export const userRecordSchema = deferred(() =>
  z
    .object({ id: z.string(), username: z.string(), role: userRoleSchema, createdAt: z.number() })
    .meta({ id: "UserRecord" }),
);
export type UserRecord = z.infer<typeof userRecordSchema>;

/** `GET /api/users`. */
export const userListSchema = deferred(() =>
  z.object({ users: z.array(userRecordSchema) }).meta({ id: "UserList" }),
);
/** `POST /api/users` (201) and `PATCH /api/users/{id}` (200). */
export const userBodySchema = deferred(() => z.object({ user: userRecordSchema }).meta({ id: "UserBody" }));

export const createUserRequestSchema = deferred(() =>
  z
    .object({ username: usernameSchema, password: newPasswordSchema, role: userRoleSchema })
    .meta({ id: "CreateUserRequest" }),
);
export const changeRoleRequestSchema = deferred(() =>
  z.object({ role: userRoleSchema }).meta({ id: "ChangeRoleRequest" }),
);

/** `GET /api/setup`: whether the station still waits for its first account. */
export const setupStatusSchema = deferred(() =>
  z.object({ required: z.boolean() }).meta({ id: "SetupStatus" }),
);
export type SetupStatus = z.infer<typeof setupStatusSchema>;

/** `POST /api/setup`: the one-time code `serve` printed, and the owner's account. */
export const setupRequestSchema = deferred(() =>
  z
    .object({ code: z.string().min(1).max(256), username: usernameSchema, password: newPasswordSchema })
    .meta({ id: "SetupRequest" }),
);
export type SetupRequest = z.infer<typeof setupRequestSchema>;

export const setupResultSchema = deferred(() =>
  z
    .object({ user: z.object({ id: z.string(), username: z.string(), role: z.literal("owner") }) })
    .meta({ id: "SetupResult" }),
);

/** A long-lived access token (a session of kind "token"); the token itself is never listed. */
export const accessTokenInfoSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      label: z.string(),
      userId: z.string(),
      username: z.string(),
      createdAt: z.number(),
      expiresAt: z.number(),
      /** When an app on it last closed its /ws socket; null if none did. */
      lastSeenAt: z.number().nullable(),
    })
    .meta({ id: "AccessTokenInfo" }),
);
export type AccessTokenInfo = z.infer<typeof accessTokenInfoSchema>;

/** `GET /api/tokens`. */
export const tokenListSchema = deferred(() =>
  z.object({ tokens: z.array(accessTokenInfoSchema) }).meta({ id: "TokenList" }),
);

export const MAX_TOKEN_TTL_DAYS = 3650;
export const DEFAULT_TOKEN_TTL_DAYS = 365;

export const createTokenRequestSchema = deferred(() =>
  z
    .object({
      label: z.string().trim().min(1).max(100),
      ttlDays: z.number().int().min(1).max(MAX_TOKEN_TTL_DAYS).default(DEFAULT_TOKEN_TTL_DAYS),
    })
    .meta({ id: "CreateTokenRequest" }),
);

/** `POST /api/tokens` (201): the access token is shown this once. */
export const createdTokenSchema = deferred(() =>
  z.object({ token: accessTokenInfoSchema, accessToken: z.string() }).meta({ id: "CreatedToken" }),
);
export type CreatedToken = z.infer<typeof createdTokenSchema>;

/** `GET /api/station`: what an admin and a firmware author need to know about this station. */
export const stationInfoSchema = deferred(() =>
  z
    .object({
      version: z.string(),
      stationId: z.string(),
      runtime: z.string(),
      startedAt: z.number(),
      uptimeMs: z.number(),
      /** host and port are what devices are told to reach (the advertised broker address). */
      mqtt: z.object({
        mode: z.enum(["embedded", "external"]),
        connected: z.boolean(),
        host: z.string(),
        port: z.number().int(),
      }),
      /** false while the kill switch (OPENGENIE_REMOTE_ACCESS=off) is on. */
      remoteAccess: z.boolean(),
    })
    .meta({ id: "StationInfo" }),
);
export type StationInfo = z.infer<typeof stationInfoSchema>;

/** One line of `opengenie doctor`: what was checked, what was found, and the fix when it is not ok. */
export const doctorCheckSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      status: z.enum(["ok", "warn", "fail", "skip"]),
      detail: z.string(),
      fix: z.string().optional(),
    })
    .meta({ id: "DoctorCheck" }),
);
export type DoctorCheck = z.infer<typeof doctorCheckSchema>;

/** `POST /api/doctor`. */
export const doctorReportSchema = deferred(() =>
  z.object({ checks: z.array(doctorCheckSchema) }).meta({ id: "DoctorReport" }),
);
export type DoctorReport = z.infer<typeof doctorReportSchema>;
