import { randomUUID } from "node:crypto";
import { StationError } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { RequestContext, SocketConnection, SocketHandlers } from "../platform/index.ts";
import { iotFrameSchema as frameSchema, type IotFrame } from "../protocol/index.ts";

export interface IotSocketData {
  kind: "iot";
  connId: string;
  deviceId: string;
  connectedAt: number;
}

/** What /ws/iot needs of the device core. */
export interface IotDeviceCore {
  verifyCredential(deviceId: string, token: string): Promise<boolean>;
  handle(deviceId: string, transport: "iot-ws", suffix: string, raw: string): Promise<object | undefined>;
  disconnected(deviceId: string): void;
}

export const CLOSE_REPLACED = 4001;

/**
 * `/ws/iot`: ESP32 firmware over WebSocket (CONTRACT.md section 4). Frames carry the MQTT
 * suffix and payload, so the device core cannot tell the transports apart.
 */
export function createIotSocketServer(deps: { core: IotDeviceCore; logger: Logger; now: () => number }) {
  const { core, logger } = deps;
  const byDevice = new Map<string, SocketConnection<IotSocketData>>();
  const stats = new Map<string, { messagesIn: number; messagesOut: number; dropped: number }>();
  let rejectedFrames = 0;

  function send(socket: SocketConnection<IotSocketData>, topic: string, payload: unknown) {
    const s = stats.get(socket.data.connId);
    if (s) s.messagesOut++;
    socket.send(JSON.stringify({ topic, payload } satisfies IotFrame));
  }

  const handlers: SocketHandlers<IotSocketData> = {
    open(socket) {
      const previous = byDevice.get(socket.data.deviceId);
      byDevice.set(socket.data.deviceId, socket);
      stats.set(socket.data.connId, { messagesIn: 0, messagesOut: 0, dropped: 0 });
      // One live socket per device: the newest wins, as a rebooted ESP32 reconnects first.
      previous?.close(CLOSE_REPLACED, "replaced by a newer connection");
    },
    message(socket, message) {
      const s = stats.get(socket.data.connId);
      if (s) s.messagesIn++;
      const text = typeof message === "string" ? message : new TextDecoder().decode(message);
      let frame: IotFrame;
      try {
        frame = frameSchema.parse(JSON.parse(text));
      } catch {
        rejectedFrames++;
        logger.warn("rejected /ws/iot frame", {
          deviceId: socket.data.deviceId,
          reason: "not {topic,payload} JSON",
        });
        return;
      }
      const { deviceId } = socket.data;
      core
        .handle(deviceId, "iot-ws", frame.topic, JSON.stringify(frame.payload ?? null))
        .then((ack) => {
          if (ack && byDevice.get(deviceId) === socket) send(socket, "handshake/ack", ack);
        })
        .catch((err) => logger.error("handling an iot frame failed", { deviceId, err }));
    },
    close(socket) {
      stats.delete(socket.data.connId);
      if (byDevice.get(socket.data.deviceId) !== socket) return;
      byDevice.delete(socket.data.deviceId);
      // A WebSocket has no last will: the socket closing is the device going offline.
      core.disconnected(socket.data.deviceId);
    },
  };

  return {
    handlers,
    async upgrade(request: Request, ctx: RequestContext<IotSocketData>): Promise<Response | undefined> {
      const url = new URL(request.url);
      const deviceId = url.searchParams.get("deviceId") ?? "";
      const token = url.searchParams.get("token") ?? request.headers.get("x-device-token") ?? "";
      if (!deviceId || !token || !(await core.verifyCredential(deviceId, token))) {
        return new StationError("UNAUTHORIZED", "unknown device or wrong device token").toResponse();
      }
      const data: IotSocketData = { kind: "iot", connId: randomUUID(), deviceId, connectedAt: deps.now() };
      if (ctx.upgrade({ data })) return undefined;
      return new StationError("VALIDATION_ERROR", "expected a WebSocket upgrade request").toResponse();
    },
    /** The command sink for devices on /ws/iot. */
    sendCommand(deviceId: string, message: Record<string, unknown>) {
      const socket = byDevice.get(deviceId);
      if (!socket) throw new Error("the device's WebSocket is not connected");
      send(socket, "command", message);
    },
    disconnectDevice(deviceId: string) {
      byDevice.get(deviceId)?.close(4003, "device removed");
    },
    connections: () =>
      [...byDevice.values()].map((s) => ({
        id: s.data.connId,
        deviceId: s.data.deviceId,
        remoteAddress: s.remoteAddress,
        connectedAt: s.data.connectedAt,
        ...(stats.get(s.data.connId) ?? { messagesIn: 0, messagesOut: 0, dropped: 0 }),
      })),
    rejectedFrames: () => rejectedFrames,
    shutdown() {
      for (const socket of byDevice.values()) socket.close(1001, "station shutting down");
    },
  };
}

export type IotSocketServer = ReturnType<typeof createIotSocketServer>;
