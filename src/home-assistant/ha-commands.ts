/**
 * What Home Assistant publishes on a command topic the bridge announced, turned into the
 * station's device commands (CONTRACT.md section 3 actions). Untrusted input: anything that is
 * not one of these shapes is refused with a reason and sends nothing.
 */
import { z } from "zod";

export interface HaCommand {
  action: string;
  params: Record<string, unknown>;
}

/** The light's JSON schema command (`{"state":"ON","brightness":40}`; brightness_scale 100). */
const lightCommand = z
  .object({
    state: z.enum(["ON", "OFF"]).optional(),
    brightness: z.number().int().min(0).max(100).optional(),
  })
  .passthrough();

/** `field` is the last topic level after `/set` (climate's `target_temperature`), or undefined. */
export function toDeviceCommands(
  type: string,
  field: string | undefined,
  payload: string,
): HaCommand[] | { error: string } {
  const text = payload.trim();
  if (type === "light" && field === undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { error: 'a light\'s command is JSON, e.g. {"state":"ON","brightness":40}' };
    }
    const parsed = lightCommand.safeParse(json);
    if (!parsed.success) return { error: "a light's command has state ON/OFF and brightness 0-100" };
    const { state, brightness } = parsed.data;
    if (state === "OFF") return [{ action: "turn_off", params: {} }];
    const out: HaCommand[] = [];
    if (state === "ON") out.push({ action: "turn_on", params: {} });
    if (brightness !== undefined) out.push({ action: "set_brightness", params: { brightness } });
    return out.length > 0 ? out : { error: "a light's command needs state or brightness" };
  }
  if (type === "switch" && field === undefined) {
    if (text === "ON") return [{ action: "turn_on", params: {} }];
    if (text === "OFF") return [{ action: "turn_off", params: {} }];
    return { error: "a switch's command is ON or OFF" };
  }
  if (type === "climate" && field === "target_temperature") {
    const celsius = Number(text);
    if (text === "" || !Number.isFinite(celsius)) return { error: "a target temperature is a number" };
    return [{ action: "set_target", params: { celsius } }];
  }
  return { error: `a ${type} takes no command on this topic` };
}
