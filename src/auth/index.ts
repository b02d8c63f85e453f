export type { AccessClaims, AccessTokenCodec } from "./access-tokens.ts";
export { createAccessTokenCodec, LOCAL_CLI_AUDIENCE } from "./access-tokens.ts";
export type { AuthService, Principal, PublicUser } from "./auth-service.ts";
export {
  createAuthService,
  LOGIN_TTL_MS,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from "./auth-service.ts";
export type { LoginRateLimiter } from "./login-rate-limit.ts";
export { createLoginRateLimiter } from "./login-rate-limit.ts";
export type { PasswordCheckGate, PasswordCheckGateOptions } from "./password-check-gate.ts";
export { createPasswordCheckGate } from "./password-check-gate.ts";
export type { Role } from "./roles.ts";
export { hasRole, roleSchema, roles } from "./roles.ts";
export { generateToken, hashToken, tokenMatchesHash, tokensEqual } from "./static-token.ts";
export type { TokenAdmin } from "./token-admin.ts";
export { createTokenAdmin } from "./token-admin.ts";
export type { UserAdmin } from "./user-admin.ts";
export { createUserAdmin } from "./user-admin.ts";
