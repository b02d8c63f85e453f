/**
 * Sends a device command and waits for the device's answer (`?wait=`), showing each step in
 * a status line: sending, then confirmed, the device's own error (502 DEVICE_ERROR), no
 * answer in time (504 DEVICE_TIMEOUT) or offline (409 DEVICE_OFFLINE).
 */
import { ApiError, api } from "./api.ts";

const WAIT_MS = 5000;

export type CommandOutcome = "ok" | "error";

export async function sendCommand(
  deviceId: string,
  action: string,
  params: Record<string, unknown> | undefined,
  status: HTMLElement,
): Promise<CommandOutcome> {
  const label = action.replace(/_/g, " ");
  status.className = "cmd pending";
  status.textContent = `Sending ${label}…`;
  try {
    await api(`/api/devices/${encodeURIComponent(deviceId)}/commands?wait=${WAIT_MS}`, {
      body: { action, ...(params ? { params } : {}) },
    });
    status.className = "cmd ok";
    status.textContent = `Done: the device confirmed ${label}.`;
    return "ok";
  } catch (err) {
    status.className = "cmd failed";
    status.textContent = explain(err, label);
    return "error";
  }
}

function explain(err: unknown, label: string): string {
  if (!(err instanceof ApiError)) return `Could not send ${label}: ${String(err)}`;
  switch (err.code) {
    case "DEVICE_ERROR":
      return `Device error: ${err.message.replace(/^device reported failure: /, "")}`;
    case "DEVICE_TIMEOUT":
      return `No answer: the device did not confirm ${label} within ${WAIT_MS / 1000} s.`;
    case "DEVICE_OFFLINE":
      return `The device is offline; ${label} was not sent.`;
    case "FORBIDDEN":
      return `Your role may not ${label} this device.`;
    default:
      return `Could not ${label}: ${err.message}`;
  }
}
