/**
 * What each simulated device type does with a command or a sensor tick. Pure functions over
 * the state so the MQTT side only moves bytes; params are parsed with the protocol's command
 * catalog like firmware would check its JSON document before acting.
 */

import type { z } from "zod";
import { zodErrorMessage } from "../src/core/index.ts";
import {
  type CommandMessage,
  type CommandResult,
  type DeviceType,
  deviceTypeCatalog,
} from "../src/protocol/index.ts";
import type { SimState } from "./device-protocol.ts";

/** Side effects the device itself must carry out after answering (they touch the connection). */
export type CommandEffect =
  | { kind: "reboot" }
  | { kind: "factory_reset" }
  | { kind: "ota_update"; firmwareVersion: string };

export type CommandOutcome =
  | { ok: true; patch: SimState; effect?: CommandEffect }
  | { ok: false; error: string };

const { set_brightness: brightnessParams } = deviceTypeCatalog.light;
const { set_target: targetParams } = deviceTypeCatalog.climate;
// Every type takes ota_update with the same params.
const { ota_update: otaParams } = deviceTypeCatalog.light;

/** A command's params sit beside its action and requestId. */
function paramsOf(command: CommandMessage): Record<string, unknown> {
  const { action: _action, requestId: _requestId, ...params } = command;
  return params;
}

export function initialState(type: DeviceType): SimState {
  switch (type) {
    case "light":
      return { power: "off", brightness: 100 };
    case "switch":
      return { power: "off" };
    case "sensor":
      return { temperature: 21.5, humidity: 45 };
    case "pir":
      return { motion: false };
    case "climate":
      return { target_celsius: 21, current_celsius: 20 };
  }
}

function invalidParams(action: string, error: z.ZodError): CommandOutcome {
  return { ok: false, error: `invalid params for ${action}: ${zodErrorMessage(error, "params")}` };
}

function powerCommand(action: string, state: SimState): SimState | undefined {
  if (action === "turn_on") return { power: "on" };
  if (action === "turn_off") return { power: "off" };
  if (action === "toggle") return { power: state.power === "on" ? "off" : "on" };
  return undefined;
}

function typeCommand(type: DeviceType, command: CommandMessage, state: SimState): CommandOutcome | undefined {
  const { action } = command;
  if (type === "light" || type === "switch") {
    const patch = powerCommand(action, state);
    if (patch) return { ok: true, patch };
  }
  if (type === "light" && action === "set_brightness") {
    const params = brightnessParams.safeParse(paramsOf(command));
    if (!params.success) return invalidParams(action, params.error);
    const { brightness } = params.data;
    // Like Zigbee2MQTT lights: a non-zero level implies on, zero implies off.
    return { ok: true, patch: { brightness, power: brightness > 0 ? "on" : "off" } };
  }
  if (type === "climate" && action === "set_target") {
    const params = targetParams.safeParse(paramsOf(command));
    if (!params.success) return invalidParams(action, params.error);
    return { ok: true, patch: { target_celsius: params.data.celsius } };
  }
  return undefined;
}

/** Picks a version out of an OTA URL like `.../fw-1.2.3.bin`, so the station sees it change. */
export function versionFromOtaUrl(url: string, current: string): string {
  const match = /(\d+\.\d+\.\d+[0-9A-Za-z.+-]*?)(?:\.bin)?(?:[?#].*)?$/.exec(url);
  return match?.[1] ?? `${current}+ota`;
}

export function applyCommand(
  type: DeviceType,
  command: CommandMessage,
  state: SimState,
  firmwareVersion: string,
): CommandOutcome {
  const specific = typeCommand(type, command, state);
  if (specific) return specific;
  switch (command.action) {
    case "reboot":
      return { ok: true, patch: {}, effect: { kind: "reboot" } };
    case "factory_reset":
      return { ok: true, patch: initialState(type), effect: { kind: "factory_reset" } };
    case "ota_update": {
      const params = otaParams.safeParse(paramsOf(command));
      if (!params.success) return invalidParams(command.action, params.error);
      const next = versionFromOtaUrl(params.data.url, firmwareVersion);
      return { ok: true, patch: {}, effect: { kind: "ota_update", firmwareVersion: next } };
    }
    default:
      return { ok: false, error: `unsupported action ${command.action}` };
  }
}

export function commandResult(requestId: string, outcome: CommandOutcome): CommandResult {
  return outcome.ok ? { requestId, ok: true } : { requestId, ok: false, error: outcome.error };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/** A periodic reading: sensors drift, a thermostat's room creeps toward its target. */
export function sensorTick(type: DeviceType, state: SimState, random: () => number): SimState | undefined {
  const num = (key: string, fallback: number) => (typeof state[key] === "number" ? state[key] : fallback);
  if (type === "sensor") {
    return {
      temperature: round1(clamp(num("temperature", 21.5) + (random() - 0.5) * 0.6, -20, 50)),
      humidity: round1(clamp(num("humidity", 45) + (random() - 0.5) * 2, 0, 100)),
    };
  }
  if (type === "climate") {
    const current = num("current_celsius", 20);
    const step = clamp(num("target_celsius", 21) - current, -0.5, 0.5);
    return { current_celsius: round1(current + step + (random() - 0.5) * 0.1) };
  }
  return undefined;
}
