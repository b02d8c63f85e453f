import { z } from "zod";
import { StationError } from "../core/index.ts";
import { type DeviceType, type DeviceTypeInfo, deviceTypeCatalog } from "../protocol/index.ts";

export { type DeviceType, type DeviceTypeInfo, deviceTypeSchema } from "../protocol/index.ts";

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
    const issue = parsed.error.issues[0];
    throw new StationError(
      "VALIDATION_ERROR",
      `${action}: ${issue?.path.join(".") || "params"} ${issue?.message ?? "invalid"}`,
      parsed.error.issues,
    );
  }
  return parsed.data as Record<string, unknown>;
}
