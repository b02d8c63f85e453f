import type { EventBus, StationEvents } from "../core/index.ts";
import { toStationError, zodErrorMessage } from "../core/index.ts";
import { type DeviceService, requireCommandRole } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import { type ModuleEvent, moduleDeviceCommandSchema } from "../protocol/index.ts";
import type { ModuleHub } from "./module-hub.ts";
import type { ModulePeer } from "./module-peer.ts";

export const STATION_MODULE_NAME = "opengenie";
export const DEVICE_COMMAND_EVENT = "opengenie:device.command";

export interface StationAsModuleDeps {
  hub: () => ModuleHub;
  bus: EventBus<StationEvents>;
  devices: Pick<DeviceService, "commands">;
  /** `OPENGENIE_MODULES_COMMANDS`: modules command devices only when this is on. */
  commands: "on" | "off";
  commandsInFlight: number;
  logger: Logger;
}

/**
 * The station as module `opengenie` on its own hub: device state, status and events go out
 * as events of those names (routed under the policy like any module's), and
 * `opengenie:device.command` routed to it commands a device, as a member would, when the
 * owner switched that on.
 */
export function createStationAsModule(deps: StationAsModuleDeps) {
  const { logger } = deps;
  let offs: (() => void)[] = [];

  function command(event: ModuleEvent, from: ModulePeer) {
    const parentId = event.metadata?.event?.id;
    const data = (typeof event.data === "object" && event.data !== null ? event.data : {}) as Record<
      string,
      unknown
    >;
    const asked = {
      deviceId: typeof data.deviceId === "string" ? data.deviceId.slice(0, 128) : "",
      action: typeof data.action === "string" ? data.action.slice(0, 64) : "",
    };
    const refuse = (code: string, message: string) =>
      deps
        .hub()
        .reply(
          from,
          "opengenie:device.command.result",
          { ...asked, ok: false, error: { code, message } },
          parentId,
        );
    const who = {
      module: from.name || "(not announced)",
      plugin: from.route?.plugin,
      remoteAddress: from.socket.remoteAddress,
    };
    const parsed = moduleDeviceCommandSchema.safeParse(event.data);
    if (!parsed.success) return refuse("VALIDATION_ERROR", zodErrorMessage(parsed.error, "data"));
    const { deviceId, action, params, wait } = parsed.data;
    if (deps.commands !== "on") {
      logger.warn("module device command refused: OPENGENIE_MODULES_COMMANDS is off", {
        ...who,
        deviceId,
        action,
      });
      return refuse(
        "FORBIDDEN",
        "device commands from modules are off on this station (OPENGENIE_MODULES_COMMANDS=on)",
      );
    }
    if (from.commandsInFlight >= deps.commandsInFlight) {
      return refuse("RATE_LIMITED", `at most ${deps.commandsInFlight} device commands in flight per module`);
    }
    try {
      // A module commands as a member: factory_reset and ota_update stay with admins.
      requireCommandRole(action, "member");
    } catch {
      logger.warn("module device command refused: admin action", { ...who, deviceId, action });
      return refuse("FORBIDDEN", `${action} needs an admin; modules command devices as members`);
    }
    logger.info("module device command", { ...who, deviceId, action });
    from.commandsInFlight++;
    deps.devices.commands
      .send(deviceId, action, params, wait)
      .then(
        ({ requestId, status }) =>
          deps
            .hub()
            .reply(
              from,
              "opengenie:device.command.result",
              { deviceId, action, ok: true, requestId, status },
              parentId,
            ),
        (err) => {
          const e = toStationError(err);
          if (e.code === "INTERNAL_ERROR")
            logger.error("module device command failed", { ...who, deviceId, action, err });
          const requestId = (e.details as { requestId?: unknown } | undefined)?.requestId;
          deps.hub().reply(
            from,
            "opengenie:device.command.result",
            {
              deviceId,
              action,
              ok: false,
              ...(typeof requestId === "string" ? { requestId } : {}),
              error: { code: e.code, message: e.message },
            },
            parentId,
          );
        },
      )
      .finally(() => {
        from.commandsInFlight--;
      });
  }

  return {
    /** An event some module routed to `opengenie`; the station acts only on device commands. */
    onEvent(event: ModuleEvent, from: ModulePeer) {
      if (event.type === DEVICE_COMMAND_EVENT) command(event, from);
    },
    start() {
      const hub = deps.hub();
      offs = [
        // A slow module gets the latest state per device, not a queue of every report.
        deps.bus.on("device.state", (e) => hub.publish("device.state", e, `device.state:${e.deviceId}`)),
        deps.bus.on("device.status", (e) => hub.publish("device.status", e)),
        deps.bus.on("device.event", (e) => hub.publish("device.event", e)),
        deps.bus.on("automation.event", (e) => hub.publish("automation.event", e)),
      ];
    },
    stop() {
      for (const off of offs.splice(0)) off();
    },
  };
}
