import { z } from "zod";
import { deferred } from "./deferred.ts";

/**
 * The cloud link's wire shapes (CONTRACT.md section 7, docs/cloud.md): the handshake, the
 * JSON-RPC 2.0 envelope, the methods the station serves, and the plain identity messages.
 * Everything here parses what a remote peer sends, so every string and list is bounded.
 */

/** Station → cloud, the first message of a connection. */
export const claimHandshakeSchema = deferred(() =>
  z.object({
    type: z.literal("claim_handshake"),
    chipId: z.string().min(1).max(256),
    claimSecret: z.string().min(1).max(4096),
  }),
);
export const stationAuthSchema = deferred(() =>
  z.object({
    type: z.literal("station_auth"),
    stationToken: z.string().min(1).max(4096),
  }),
);

/** Cloud → station while the link is not authenticated yet. */
export const cloudHandshakeReplySchema = deferred(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("claim_success"), stationToken: z.string().min(16).max(4096) }),
    z.object({ type: z.literal("auth_ok") }),
    z.object({ type: z.literal("auth_error"), message: z.string().max(1000).default("no reason given") }),
  ]),
);
export type CloudHandshakeReply = z.infer<typeof cloudHandshakeReplySchema>;

// ── JSON-RPC 2.0 (https://www.jsonrpc.org/specification), batch-free, `jsonrpc` may be missing ──

export const JSON_RPC_PARSE_ERROR = -32700;
export const JSON_RPC_INVALID_REQUEST = -32600;
export const JSON_RPC_METHOD_NOT_FOUND = -32601;
export const JSON_RPC_INVALID_PARAMS = -32602;
export const JSON_RPC_INTERNAL_ERROR = -32603;
/** The implementation-defined server-error range: a StationError other than validation. */
export const JSON_RPC_SERVER_ERROR = -32000;

export const jsonRpcIdSchema = deferred(() => z.union([z.string().max(128), z.number().int()]));
export type JsonRpcId = z.infer<typeof jsonRpcIdSchema>;
const version = deferred(() => z.literal("2.0").optional());

export const jsonRpcRequestSchema = deferred(() =>
  z.object({
    jsonrpc: version,
    id: jsonRpcIdSchema.optional(),
    method: z.string().min(1).max(128),
    params: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  }),
);
export const jsonRpcErrorSchema = deferred(() =>
  z.object({
    code: z.number().int(),
    message: z.string().max(10_000),
    data: z.unknown().optional(),
  }),
);
export const jsonRpcResponseSchema = deferred(() =>
  z.union([
    z.object({ jsonrpc: version, id: jsonRpcIdSchema, result: z.unknown() }),
    z.object({ jsonrpc: version, id: jsonRpcIdSchema.nullable(), error: jsonRpcErrorSchema }),
  ]),
);
export type JsonRpcErrorObject = z.infer<typeof jsonRpcErrorSchema>;

// ── Methods the station serves ──

export const deviceCommandParamsSchema = deferred(() =>
  z.object({
    deviceId: z.string().min(1).max(128),
    command: z.looseObject({ action: z.string().min(1).max(64) }),
  }),
);
/** The notifications a cloud can ask for; each is also the notification's method name. */
export const cloudChannelSchema = deferred(() => z.enum(["device.state", "device.status", "device.event"]));
export type CloudChannel = z.infer<typeof cloudChannelSchema>;
/**
 * Channel names as the cloud sends them: the notification names above, or the /ws channel names
 * `devices` (device.state and device.status) and `events` (device.event). Others are ignored.
 */
export const setActiveChannelsParamsSchema = deferred(() =>
  z.object({ channels: z.array(z.string().max(64)).max(16) }),
);

// ── Identity messages: plain `{"type":…}` objects, cloud → station ──

export const cloudMemberSchema = deferred(() =>
  z.object({
    cloudUserId: z.string().min(1).max(128),
    username: z.string().regex(/^[a-zA-Z0-9_.@-]{1,64}$/, "1-64 letters, digits or . _ @ -"),
    role: z.enum(["owner", "admin", "member", "guest"]),
    /** An argon2 or bcrypt hash, stored as sent; a member without one cannot sign in locally. */
    passwordHash: z
      .string()
      .max(1024)
      .regex(/^\$(argon2(id|i|d)|2[abxy]?)\$/, "an argon2 or bcrypt hash")
      .optional(),
  }),
);
export type CloudMember = z.infer<typeof cloudMemberSchema>;

export const identityMessageSchema = deferred(() =>
  z.discriminatedUnion("type", [
    z.object({
      type: z.literal("identity_sync"),
      stationName: z.string().min(1).max(128).optional(),
      ownerCloudUserId: z.string().min(1).max(128).optional(),
      members: z.array(cloudMemberSchema).max(1000),
    }),
    z.object({ type: z.literal("station_renamed"), name: z.string().min(1).max(128) }),
    z.object({ type: z.literal("member_added"), member: cloudMemberSchema }),
    z.object({
      type: z.literal("member_updated"),
      member: cloudMemberSchema.partial().required({ cloudUserId: true }),
    }),
    z.object({ type: z.literal("member_removed"), cloudUserId: z.string().min(1).max(128) }),
    z.object({
      type: z.literal("station_password_changed"),
      cloudUserId: z.string().min(1).max(128),
      passwordHash: cloudMemberSchema.shape.passwordHash.unwrap(),
    }),
    z.object({ type: z.literal("station_reset") }),
  ]),
);
export type IdentityMessage = z.infer<typeof identityMessageSchema>;
let identityTypes: ReadonlySet<string> | undefined;
/** Whether `type` names an identity message (its fields may still be malformed). */
export function isIdentityMessageType(type: string): boolean {
  identityTypes ??= new Set(identityMessageSchema.options.map((o) => o.shape.type.value));
  return identityTypes.has(type);
}
