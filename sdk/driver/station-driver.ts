/**
 * The driver SDK: what a driver's author imports to bridge devices into an OpenGenie station
 * (or any HOS-compatible `/driver` endpoint). It connects, registers, announces devices, keeps
 * the station told of their state and metrics, answers ACTIONs with the handler's outcome,
 * and reconnects with backoff: 1 s doubling to 30 s, ±10 % (the HOS SDK's schedule), never
 * after close code 4001 (a newer session with the same driverKey and instanceId took over).
 */
import { createSystemClock } from "../../src/core/index.ts";
import {
  type DeviceMetric,
  DRIVER_CLOSE_REPLACED,
  DRIVER_PROTOCOL_VERSION,
  type DriverActionFrame,
  type DriverEventFrame,
  type DriverEventName,
  driverKeySchema,
  instanceIdSchema,
  stationDriverFrameSchema,
} from "../../src/protocol/index.ts";
import { createDriverEvents, type DriverEvents } from "./driver-events.ts";
import type {
  ActionHandler,
  DriverAction,
  DriverDevice,
  DriverOptions,
  DriverState,
} from "./driver-types.ts";
import { createReconnectSchedule, DEFAULT_BACKOFF } from "./reconnect-schedule.ts";

type AnyEventFrame = { [E in DriverEventName]: DriverEventFrame<E> }[DriverEventName];

export function createStationDriver(options: DriverOptions) {
  const driverKey = options.driverKey.toUpperCase();
  driverKeySchema.parse(driverKey);
  instanceIdSchema.parse(options.instanceId);
  const clock = options.clock ?? createSystemClock();
  const reconnects = createReconnectSchedule({
    clock,
    random: options.random ?? Math.random,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
  });
  const WebSocketImpl = options.WebSocket ?? WebSocket;
  const events = createDriverEvents();
  const devices = new Map<string, DriverDevice>();
  const states = new Map<string, Record<string, unknown>>();
  const metrics = new Map<string, DeviceMetric[]>();
  let handler: ActionHandler | undefined;
  let socket: WebSocket | undefined;
  let state: DriverState = "idle";
  let attempts = 0;

  function url(): string {
    if (!options.token) return options.url;
    const u = new URL(options.url);
    u.searchParams.set("token", options.token);
    return u.toString();
  }

  function send(frame: object): boolean {
    if (state !== "registered" || socket?.readyState !== WebSocketImpl.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function sendEvent(frame: AnyEventFrame) {
    return send(frame);
  }

  function discovered(d: DriverDevice): DriverEventFrame<"DEVICE_DISCOVERED"> {
    return {
      event: "DEVICE_DISCOVERED",
      device_id: d.id,
      data: {
        name: d.name,
        deviceType: d.deviceType,
        properties: {
          ...d.properties,
          ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
          ...(d.model ? { model: d.model } : {}),
          commandCatalog: (d.commands ?? []).map((c) => ({
            key: c.key,
            ...(c.label ? { label: c.label } : {}),
            ...(c.payloadSchema !== undefined ? { payloadSchema: c.payloadSchema } : {}),
          })),
        },
      },
    };
  }

  /** After every registration the station hears everything again: it may have restarted. */
  function replay() {
    for (const d of devices.values()) sendEvent(discovered(d));
    for (const [id, s] of states) sendEvent({ event: "STATE_UPDATE", device_id: id, data: s });
    for (const [id, m] of metrics) sendEvent({ event: "METRIC_UPDATE", device_id: id, data: { metrics: m } });
  }

  async function runAction(frame: DriverActionFrame) {
    const action: DriverAction = {
      deviceId: frame.device_id,
      command: frame.data.command,
      payload: frame.data.payload,
      requestId: frame.data.requestId,
    };
    events.emit("action", action);
    let outcome: { success: boolean; message?: string };
    try {
      const result = handler
        ? await handler(action)
        : { success: false, message: "this driver takes no commands" };
      outcome =
        result === undefined || result === true
          ? { success: true }
          : result === false
            ? { success: false }
            : result;
    } catch (err) {
      outcome = { success: false, message: err instanceof Error ? err.message : String(err) };
    }
    sendEvent({
      event: "ACTION_RESULT",
      device_id: action.deviceId,
      data: {
        command: action.command,
        success: outcome.success,
        requestId: action.requestId,
        ...(outcome.message ? { message: outcome.message } : {}),
      },
    });
  }

  function onMessage(ws: WebSocket, text: string) {
    if (ws !== socket) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = stationDriverFrameSchema.safeParse(json);
    if (!parsed.success) return;
    const frame = parsed.data;
    if ("code" in frame) {
      events.emit("error", frame);
      return;
    }
    if (frame.event === "REGISTERED") {
      state = "registered";
      reconnects.succeeded();
      events.emit("registered", { driverKey: frame.driverKey, instanceId: frame.instanceId });
      replay();
    } else if (frame.event === "ACTION") {
      void runAction(frame);
    }
  }

  function scheduleReconnect() {
    state = "waiting";
    events.emit("reconnecting", reconnects.schedule(open));
  }

  function onClose(ws: WebSocket, code: number, reason: string) {
    if (ws !== socket) return;
    socket = undefined;
    events.emit("disconnected", { code, reason });
    if (state === "closed") return;
    if (code === DRIVER_CLOSE_REPLACED) {
      state = "replaced";
      events.emit("replaced", { reason });
      return;
    }
    scheduleReconnect();
  }

  function open() {
    if (state === "closed" || state === "replaced") return;
    state = "connecting";
    attempts++;
    const ws = new WebSocketImpl(url());
    socket = ws;
    ws.addEventListener("open", () => {
      if (ws !== socket) return;
      events.emit("connected", { url: options.url });
      ws.send(
        JSON.stringify({
          method: "driver.register",
          params: {
            driverKey,
            instanceId: options.instanceId,
            protocolVersion: DRIVER_PROTOCOL_VERSION,
            ...(options.name ? { name: options.name } : {}),
          },
        }),
      );
    });
    ws.addEventListener("message", (e) => onMessage(ws, String(e.data)));
    ws.addEventListener("close", (e) => onClose(ws, e.code, e.reason));
  }

  return {
    get state(): DriverState {
      return state;
    },
    /** Connection attempts made so far (each counts once its socket is created). */
    get attempts(): number {
      return attempts;
    },
    on<K extends keyof DriverEvents>(event: K, listener: (payload: DriverEvents[K]) => void): () => void {
      return events.on(event, listener);
    },
    /** Opens the connection; registration, replay and reconnects follow by themselves. */
    connect() {
      if (state !== "idle" && state !== "closed") return;
      state = "idle";
      open();
    },
    /** Announces (or re-announces) a device; it is announced again after every reconnect. */
    announce(device: DriverDevice) {
      devices.set(device.id, device);
      sendEvent(discovered(device));
    },
    /** Merges into the device's state and sends it; the whole state is sent again after a reconnect. */
    setState(deviceId: string, partial: Record<string, unknown>) {
      states.set(deviceId, { ...states.get(deviceId), ...partial });
      sendEvent({ event: "STATE_UPDATE", device_id: deviceId, data: partial });
    },
    setMetrics(deviceId: string, list: DeviceMetric[]) {
      metrics.set(deviceId, list);
      sendEvent({ event: "METRIC_UPDATE", device_id: deviceId, data: { metrics: list } });
    },
    /** The handler for ACTIONs; what it returns (or throws) becomes the ACTION_RESULT. */
    onAction(h: ActionHandler) {
      handler = h;
    },
    /** Closes for good: no reconnect. */
    close() {
      state = "closed";
      reconnects.cancel();
      socket?.close(1000, "driver closing");
    },
  };
}

export type StationDriver = ReturnType<typeof createStationDriver>;
