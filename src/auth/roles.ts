import type { z } from "zod";
import { userRoleSchema } from "../protocol/index.ts";

/** Strongest first (CONTRACT.md section 2): each role can do everything the ones below it can. */
export const roleSchema = userRoleSchema;
export const roles = roleSchema.options;
export type Role = z.infer<typeof roleSchema>;

const rank: Record<Role, number> = { owner: 4, admin: 3, member: 2, guest: 1 };

export function hasRole(actual: Role, required: Role): boolean {
  return rank[actual] >= rank[required];
}
