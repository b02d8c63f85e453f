import { StationError } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { AutomationAction, AutomationCondition, AutomationTrigger } from "../protocol/index.ts";
import { timeTriggerSpec } from "./scheduler.ts";

interface Definition {
  triggers: readonly AutomationTrigger[];
  conditions: readonly AutomationCondition[];
  actions: readonly AutomationAction[];
}

function refused(path: string, message: string): StationError {
  return new StationError("VALIDATION_ERROR", `${path}: ${message}`, { issues: [{ path, message }] });
}

/**
 * What zod cannot know: every device named exists, every command is one its type (or its
 * driver's catalog) takes with valid params, and every cron expression parses. Nothing is
 * stored when this throws (400 VALIDATION_ERROR).
 */
export async function validateDefinition(
  def: Definition,
  devices: Pick<DeviceService, "registry" | "commands">,
): Promise<void> {
  const requireDevice = async (path: string, deviceId: string) => {
    if (!(await devices.registry.find(deviceId))) throw refused(path, `no device ${deviceId}`);
  };
  for (const [i, t] of def.triggers.entries()) {
    if (t.type === "time") {
      try {
        timeTriggerSpec(t);
      } catch (err) {
        throw refused(`triggers.${i}.cron`, (err as Error).message);
      }
    } else {
      await requireDevice(`triggers.${i}.deviceId`, t.deviceId);
    }
  }
  for (const [i, c] of def.conditions.entries()) {
    if (c.type === "device_state") await requireDevice(`conditions.${i}.deviceId`, c.deviceId);
  }
  for (const [i, a] of def.actions.entries()) {
    if (a.type !== "device_command") continue;
    await requireDevice(`actions.${i}.deviceId`, a.deviceId);
    try {
      await devices.commands.validate(a.deviceId, a.action, a.params ?? {});
    } catch (err) {
      if (err instanceof StationError) throw refused(`actions.${i}`, err.message);
      throw err;
    }
  }
}
