import type { Device, ModuleServerEventData, PushData, UserRecord } from "../protocol/index.ts";

/** A device as the bus, the API and `/ws` show it. */
export type DeviceSummary = Device;

/**
 * Everything published on the station's bus. `at` is epoch milliseconds. Device events are
 * pushed to apps as they are, so their payloads are the protocol's push data.
 */
export interface StationEvents extends Record<string, unknown> {
  "session.revoked": { sessionId: string };
  "user.removed": { userId: string };
  /** A user's role changed; their open sockets act with it from now on. */
  "user.role_changed": { userId: string; role: UserRecord["role"] };
  "device.added": PushData<"device.added">;
  /** `type` lets type-filtered subscribers hear of a device that is already gone. */
  "device.removed": PushData<"device.removed"> & { type: string };
  "device.state": PushData<"device.state">;
  "device.status": PushData<"device.status">;
  "device.event": PushData<"device.event">;
  /** A device's `command/result`, processed and stored here (other instances settle `?wait` with it). */
  "device.command_result": { deviceId: string; requestId: string; ok: boolean; error?: string };
  "device.renamed": { deviceId: string; name: string };
  /** An automation was created, edited, suspended or deleted (other instances read it again). */
  "automation.changed": { automationId: string };
  /** A device seen by the BLE scan that can be paired. */
  "provisioning.candidate": PushData<"provisioning.candidate">;
  /** How a pairing ended: joined (`ok`), or why not. */
  "provisioning.result": PushData<"provisioning.result">;
  /** Automations (src/automations): a run started, failed, was cut off, or notified. */
  "automation.fired": PushData<"automation.fired">;
  "automation.failed": PushData<"automation.failed">;
  "automation.suspended": PushData<"automation.suspended">;
  "automation.notify": PushData<"automation.notify">;
  /** A `module_event` action, for the station's module to publish on `/ws/modules`. */
  "automation.event": ModuleServerEventData<"automation.event">;
}
