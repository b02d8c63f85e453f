/**
 * The devices the signed-in user sees, kept live: loaded over REST, then patched by the
 * `devices` channel's pushes, and reloaded after every reconnect (pushes missed while the
 * station was away). Pages render from here and listen for changes.
 */
import type { Push } from "../../client/index.ts";
import { type Device, deviceListSchema } from "../../protocol/index.ts";
import { api } from "./api.ts";
import { liveSubscribe, onConnectionState } from "./session.ts";

const devices = new Map<string, Device>();
const listeners = new Set<(changedId?: string) => void>();
let loaded = false;
let started = false;

function changed(id?: string) {
  for (const listener of listeners) listener(id);
}

export const allDevices = () => [...devices.values()];
export const getDevice = (id: string) => devices.get(id);
export const devicesLoaded = () => loaded;

export function onDevicesChanged(listener: (changedId?: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function loadDevices() {
  const { devices: list } = await api("/api/devices", { schema: deviceListSchema });
  devices.clear();
  for (const d of list) devices.set(d.id, d);
  loaded = true;
  changed();
}

function patch(id: string, update: Partial<Device>) {
  const d = devices.get(id);
  if (!d) return;
  Object.assign(d, update);
  changed(id);
}

function onPush(push: Push) {
  if (push.event === "device.state") patch(push.data.deviceId, { state: push.data.state });
  else if (push.event === "device.status")
    patch(push.data.deviceId, { online: push.data.online, lastSeen: push.data.at });
  else if (push.event === "device.added") {
    devices.set(push.data.device.id, push.data.device);
    changed(push.data.device.id);
  } else if (push.event === "device.removed") {
    devices.delete(push.data.deviceId);
    changed(push.data.deviceId);
  }
}

/** Starts following the devices channel (once per page load; it outlives sign-outs). */
export function followDevices() {
  if (started) return;
  started = true;
  liveSubscribe("devices", undefined, onPush);
  onConnectionState((state) => {
    if (state === "open") void loadDevices().catch(() => {});
  });
}

/** Forgets everything on sign-out, so the next user never sees the previous one's list. */
export function clearDevices() {
  devices.clear();
  loaded = false;
  changed();
}
