import type { Device, PushData, UserRecord } from "../protocol/index.ts";

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
  /** A device seen by the BLE scan that can be paired. */
  "provisioning.candidate": PushData<"provisioning.candidate">;
  /** How a pairing ended: joined (`ok`), or why not. */
  "provisioning.result": PushData<"provisioning.result">;
}
