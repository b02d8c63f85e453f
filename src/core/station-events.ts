/** Everything published on the station's bus. `at` is epoch milliseconds. */
export interface DeviceSummary {
  id: string;
  name: string;
  type: string;
  transport: "mqtt" | "iot-ws" | "driver";
  online: boolean;
  lastSeen: number | null;
  firmwareVersion: string | null;
  state: Record<string, unknown>;
  createdAt: number;
}

export interface StationEvents extends Record<string, unknown> {
  "session.revoked": { sessionId: string };
  "user.removed": { userId: string };
  "device.added": { device: DeviceSummary };
  /** `type` lets type-filtered subscribers hear of a device that is already gone. */
  "device.removed": { deviceId: string; type: string };
  "device.state": { deviceId: string; state: Record<string, unknown>; at: number };
  "device.status": { deviceId: string; online: boolean; at: number };
  "device.event": { deviceId: string; kind: string; data: unknown; at: number };
  /** A device seen by the BLE scan that can be paired. */
  "provisioning.candidate": { address: string; name: string; rssi: number; seenAt: number };
  /** How a pairing ended: joined (`ok`), or why not. */
  "provisioning.result": { deviceId: string; ok: boolean; error?: string };
}
