import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { roleSchema } from "./roles.ts";

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  role: roleSchema,
  exp: z.number(),
});
export type AccessClaims = z.infer<typeof claimsSchema>;

export interface AccessTokenCodec {
  sign(claims: { sub: string; sid: string; role: string }, expiresAtMs: number): Promise<string>;
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
      new SignJWT({ sid: claims.sid, role: claims.role })
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
