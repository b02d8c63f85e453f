import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { roleSchema } from "./roles.ts";

/**
 * The audience of tokens that `opengenie` commands sign for the running station on this machine.
 * Only a holder of the data dir's JWT secret can make one, and such a holder can already do
 * anything to the station's files; the token lets it do so through the station instead.
 */
export const LOCAL_CLI_AUDIENCE = "opengenie-cli";

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  role: roleSchema,
  exp: z.number(),
  /** Set only on tokens the CLI signs for itself (see LOCAL_CLI_AUDIENCE). */
  aud: z.literal(LOCAL_CLI_AUDIENCE).optional(),
});
export type AccessClaims = z.infer<typeof claimsSchema>;

export interface AccessTokenCodec {
  sign(
    claims: { sub: string; sid: string; role: string; aud?: typeof LOCAL_CLI_AUDIENCE },
    expiresAtMs: number,
  ): Promise<string>;
  /** Returns the claims, or a reason the token is refused. */
  verify(
    token: string,
    nowMs: number,
  ): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: string }>;
}

export function createAccessTokenCodec(secret: string): AccessTokenCodec {
  // Imported once: given raw bytes, jose would import the HMAC key again on every call.
  const keyPromise = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return {
    sign: async (claims, expiresAtMs) =>
      new SignJWT({ sid: claims.sid, role: claims.role, ...(claims.aud ? { aud: claims.aud } : {}) })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(claims.sub)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAtMs / 1000))
        .sign(await keyPromise),
    async verify(token, nowMs) {
      try {
        const { payload } = await jwtVerify(token, await keyPromise, {
          algorithms: ["HS256"],
          currentDate: new Date(nowMs),
        });
        const parsed = claimsSchema.safeParse(payload);
        return parsed.success ? { ok: true, claims: parsed.data } : { ok: false, reason: "malformed token" };
      } catch (err) {
        if (err instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
        return { ok: false, reason: "invalid token" };
      }
    },
  };
}
