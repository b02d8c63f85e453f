import { type Clock, StationError } from "../core/index.ts";
import { type CommandSink, type DeviceService, MAX_WAIT_MS } from "../devices/index.ts";
import type { ActionResultData } from "../protocol/index.ts";
import type { DriverDevices } from "./driver-devices.ts";
import type { DriverSession } from "./driver-session.ts";

/** Commands sent to drivers and not yet answered, station-wide: the oldest go first past this. */
export const MAX_OUTSTANDING_ACTIONS = 4096;
/** A result later than the longest `?wait` (plus a margin) has nobody left to tell. */
const OUTSTANDING_MS = MAX_WAIT_MS + 5_000;

interface Outstanding {
  deviceId: string;
  /** The instance the ACTION went to: only a session of it (this one or its successor) may answer. */
  driverKey: string;
  instanceId: string;
  at: number;
}

export interface DriverActionsDeps {
  devices: DeviceService;
  driverDevices: DriverDevices;
  clock: Clock;
  /** The live session serving an instance of a driver. */
  session(driverKey: string, instanceId: string): DriverSession | undefined;
}

/**
 * Commands to driver devices: `ACTION` frames out, `ACTION_RESULT` in, correlated by requestId.
 * Only the first result for a request counts; a repeat, or a result for a request this driver
 * instance was never sent, is ignored (counted), so a driver cannot confirm another's command.
 * A result may come from a later session of the same instance (a driver that reconnected).
 */
export function createDriverActions(deps: DriverActionsDeps) {
  const { devices, driverDevices, clock } = deps;
  const outstanding = new Map<string, Outstanding>();
  let ignoredResults = 0;

  function prune(now: number) {
    // Insertion order is age order: drop from the front while too old or too many.
    for (const [requestId, o] of outstanding) {
      if (now - o.at < OUTSTANDING_MS && outstanding.size < MAX_OUTSTANDING_ACTIONS) break;
      outstanding.delete(requestId);
    }
  }

  const sink: CommandSink = {
    validate(deviceId, action, params) {
      const device = driverDevices.get(deviceId);
      if (!device) throw new StationError("VALIDATION_ERROR", `device ${deviceId} has announced no commands`);
      return device.catalog.validate(action, params);
    },
    send(deviceId, message) {
      const device = driverDevices.get(deviceId);
      if (!device) throw new Error("not a device of a driver");
      const session = deps.session(device.driverKey, device.instanceId);
      if (!session) throw new Error(`driver ${device.driverKey} (${device.instanceId}) is not connected`);
      const { action, requestId, ...payload } = message;
      const now = clock.now();
      prune(now);
      outstanding.set(requestId, {
        deviceId,
        driverKey: device.driverKey,
        instanceId: device.instanceId,
        at: now,
      });
      const sent = session.send({
        event: "ACTION",
        device_id: device.driverDeviceId,
        data: { command: action, payload, requestId },
      });
      if (!sent) {
        outstanding.delete(requestId);
        throw new Error(`driver ${device.driverKey} is not reading its messages`);
      }
    },
  };

  return {
    sink,
    /** An `ACTION_RESULT` from a session of a driver instance. */
    async result(from: { driverKey: string; instanceId: string }, result: ActionResultData) {
      const o = result.requestId ? outstanding.get(result.requestId) : undefined;
      if (!o || o.driverKey !== from.driverKey || o.instanceId !== from.instanceId || !result.requestId) {
        ignoredResults++;
        return;
      }
      outstanding.delete(result.requestId);
      const report = result.success
        ? { requestId: result.requestId, ok: true }
        : {
            requestId: result.requestId,
            ok: false,
            error: (result.message ?? "no reason given").slice(0, 1024),
          };
      await devices.handle(o.deviceId, "driver", "command/result", JSON.stringify(report));
    },
    stats: () => ({ outstanding: outstanding.size, ignoredResults }),
  };
}

export type DriverActions = ReturnType<typeof createDriverActions>;
