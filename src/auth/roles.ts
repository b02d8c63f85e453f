import { z } from "zod";

/** Strongest first (CONTRACT.md section 2): each role can do everything the ones below it can. */
export const roles = ["owner", "admin", "member", "guest"] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

const rank: Record<Role, number> = { owner: 4, admin: 3, member: 2, guest: 1 };

export function hasRole(actual: Role, required: Role): boolean {
  return rank[actual] >= rank[required];
}
