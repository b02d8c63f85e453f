import { z } from "zod";
import { type DeviceService, describeDeviceTypes, MAX_WAIT_MS, summarize } from "../devices/index.ts";
import {
  type CloudChannel,
  cloudChannelSchema,
  deviceCommandParamsSchema,
  setActiveChannelsParamsSchema,
} from "../protocol/index.ts";
import type { JsonRpcPeer } from "./json-rpc-peer.ts";

/** How long `device.command` waits for the device's result before answering DEVICE_TIMEOUT. */
export const CLOUD_COMMAND_WAIT_MS = 15_000;

/**
 * The four methods the cloud may call (CONTRACT.md section 7), on the same device core the
 * HTTP API and `/ws` use. The cloud authenticated its own user and is trusted as the station's
 * owner, so commands are not checked against a role here.
 */
export function registerCloudMethods(
  peer: JsonRpcPeer,
  deps: { devices: DeviceService; setActiveChannels(channels: CloudChannel[]): void },
) {
  const { devices } = deps;
  peer.register("device.command", deviceCommandParamsSchema, async ({ deviceId, command }) => {
    const { action, ...params } = command;
    // As `?wait` and /ws `devices.command` with `wait`: answered once the device confirms, or
    // with its DEVICE_ERROR / DEVICE_TIMEOUT / DEVICE_OFFLINE in the error's `data`.
    await devices.commands.send(deviceId, action, params, Math.min(CLOUD_COMMAND_WAIT_MS, MAX_WAIT_MS));
    return { status: "ok" };
  });
  peer.register("devices.snapshot", z.unknown(), async () => ({
    devices: (await devices.registry.list()).map(summarize),
  }));
  peer.register("device_types.list", z.unknown(), () => ({ deviceTypes: describeDeviceTypes() }));
  peer.register("station.setActiveChannels", setActiveChannelsParamsSchema, ({ channels }) => {
    deps.setActiveChannels(channels.flatMap(notificationsOf));
    return { ok: true };
  });
}

/** The notifications a channel name asks for (protocol/cloud-link.ts); none for unknown names. */
function notificationsOf(name: string): CloudChannel[] {
  if (name === "devices") return ["device.state", "device.status"];
  if (name === "events") return ["device.event"];
  const known = cloudChannelSchema.safeParse(name);
  return known.success ? [known.data] : [];
}
