import { z } from "zod";
import { hasRole, type Role } from "../auth/index.ts";
import { StationError, zodErrorMessage, zodIssues } from "../core/index.ts";
import { type DeviceType, type DeviceTypeInfo, deviceTypeCatalog } from "../protocol/index.ts";

export { type DeviceType, type DeviceTypeInfo, deviceTypeSchema } from "../protocol/index.ts";

/**
 * Commands that can brick or wipe a device need more than the member role that other commands
 * need (CONTRACT.md section 2).
 */
const adminActions: ReadonlySet<string> = new Set(["factory_reset", "ota_update"]);

/** Refuses `action` to a caller below the role it needs. */
export function requireCommandRole(action: string, role: Role): void {
  if (adminActions.has(action) && !hasRole(role, "admin")) {
    throw new StationError("FORBIDDEN", `${action} needs the admin role; you are ${role}`);
  }
}

/** The catalog as JSON Schema, computed once. */
export function describeDeviceTypes(): DeviceTypeInfo[] {
  return Object.entries(deviceTypeCatalog).map(([type, commands]) => ({
    type,
    commands: Object.entries(commands).map(([action, schema]) => ({
      action,
      params: z.toJSONSchema(schema as z.ZodType) as Record<string, unknown>,
    })),
  }));
}

/** Checks an action and its params against the device's type; VALIDATION_ERROR names what is wrong. */
export function validateCommand(type: string, action: string, params: unknown): Record<string, unknown> {
  const commands = deviceTypeCatalog[type as DeviceType] as Record<string, z.ZodType> | undefined;
  if (!commands) throw new StationError("VALIDATION_ERROR", `device type ${type} takes no commands`);
  // Own keys only: "toString" or "__proto__" must be an unknown action, not an inherited member.
  const schema = Object.hasOwn(commands, action) ? commands[action] : undefined;
  if (!schema) {
    throw new StationError("VALIDATION_ERROR", `a ${type} has no action "${action}"`, {
      actions: Object.keys(commands),
    });
  }
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    throw new StationError(
      "VALIDATION_ERROR",
      `${action}: ${zodErrorMessage(parsed.error, "params")}`,
      zodIssues(parsed.error),
    );
  }
  return parsed.data as Record<string, unknown>;
}
