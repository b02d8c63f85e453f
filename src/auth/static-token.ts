import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Hashes a high-entropy token for storage; a fast hash is right here, unlike passwords. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time comparison of two secrets of any length (digests have equal length). */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** Constant-time check of a presented token against a stored sha256 hex digest. */
export function tokenMatchesHash(token: string, storedHash: string): boolean {
  const presented = createHash("sha256").update(token).digest();
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

export function generateToken(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}
