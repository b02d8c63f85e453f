/**
 * The driver SDK: what a driver's author imports to bridge devices into an OpenGenie station
 * (or any HOS-compatible `/driver` endpoint). It connects, registers, announces devices, keeps
 * the station told of their state and metrics, answers ACTIONs with the handler's outcome,
 * and reconnects with backoff: 1 s doubling to 30 s, ±10 % (the HOS SDK's schedule), never
 * after close code 4001 (a newer session with the same driverKey and instanceId took over).
 */
import {
  type BackoffOptions,
  backoffDelay,
  type Clock,
  createEventBus,
  createSystemClock,
} from "../../src/core/index.ts";
import {
  type DeviceMetric,
  DRIVER_CLOSE_REPLACED,
  DRIVER_PROTOCOL_VERSION,
  type DriverActionFrame,
  type DriverErrorFrame,
  type DriverEventFrame,
  type DriverEventName,
  driverKeySchema,
  instanceIdSchema,
  stationDriverFrameSchema,
} from "../../src/protocol/index.ts";

export type JsonSchema = Record<string, unknown> | boolean;

export interface DriverCommand {
  /** The command's name: the `action` apps send. */
  key: string;
  label?: string;
  /** JSON Schema (draft-07) for its payload; the station refuses payloads that do not match. */
  payloadSchema?: JsonSchema;
}

/** A device this driver serves. `id` is the driver's own id; the station derives a stable one. */
export interface DriverDevice {
  id: string;
  name: string;
  /** e.g. light, switch, sensor, climate, or a type of your own. */
  deviceType: string;
  commands?: DriverCommand[];
  manufacturer?: string;
  model?: string;
  /** More properties shown with the device. */
  properties?: Record<string, unknown>;
}

export interface DriverAction {
  deviceId: string;
  command: string;
  payload: Record<string, unknown>;
  requestId: string;
}

/** What an action handler returns: nothing or true is success; throwing is failure with its message. */
export type ActionOutcome = undefined | boolean | { success: boolean; message?: string };
export type ActionHandler = (action: DriverAction) => ActionOutcome | Promise<ActionOutcome>;

export type DriverState = "idle" | "connecting" | "registered" | "waiting" | "replaced" | "closed";

/** The SDK's events, typed. */
export interface DriverEvents extends Record<string, unknown> {
  /** The socket opened (registration follows). */
  connected: { url: string };
  registered: { driverKey: string; instanceId: string };
  disconnected: { code: number; reason: string };
  /** A reconnect is scheduled `delayMs` from now; `attempt` counts from 1 since the last registration. */
  reconnecting: { attempt: number; delayMs: number };
  /** Close code 4001: another session with this driverKey and instanceId took over. No reconnect. */
  replaced: { reason: string };
  /** The station refused a message (HOS's error envelope). */
  error: DriverErrorFrame;
  action: DriverAction;
}

export interface DriverOptions {
  /** The station's driver endpoint, e.g. `ws://192.168.1.10:8080/driver`. */
  url: string;
  /** [A-Z0-9_], 2-64 chars; lower case is upper-cased, as the HOS SDK does. */
  driverKey: string;
  /** [a-zA-Z0-9:_-], 1-128 chars: tells instances of one driver apart. */
  instanceId: string;
  name?: string;
  /** From `opengenie driver token <driverKey>`; sent as `?token=`. Omit for loopback trust. */
  token?: string;
  /** Timers for reconnects (tests pass a manual clock). */
  clock?: Pick<Clock, "setTimeout" | "clearTimeout">;
  /** The jitter's random source, in [0, 1). */
  random?: () => number;
  backoff?: BackoffOptions;
  /** A WebSocket constructor; the runtime's global one by default (Bun, Deno, Node 22+). */
  WebSocket?: typeof WebSocket;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, jitter: 0.1 };

type AnyEventFrame = { [E in DriverEventName]: DriverEventFrame<E> }[DriverEventName];

export function createStationDriver(options: DriverOptions) {
  const driverKey = options.driverKey.toUpperCase();
  driverKeySchema.parse(driverKey);
  instanceIdSchema.parse(options.instanceId);
  const clock = options.clock ?? createSystemClock();
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const WebSocketImpl = options.WebSocket ?? WebSocket;
  const events = createEventBus<DriverEvents>((event, err) =>
    console.error(`driver: a listener of ${event} failed`, err),
  );
  const devices = new Map<string, DriverDevice>();
  const states = new Map<string, Record<string, unknown>>();
  const metrics = new Map<string, DeviceMetric[]>();
  let handler: ActionHandler | undefined;
  let socket: WebSocket | undefined;
  let state: DriverState = "idle";
  let failures = 0;
  let attempts = 0;
  let timer: ReturnType<typeof clock.setTimeout> | undefined;

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
      failures = 0;
      events.emit("registered", { driverKey: frame.driverKey, instanceId: frame.instanceId });
      replay();
    } else if (frame.event === "ACTION") {
      void runAction(frame);
    }
  }

  function scheduleReconnect() {
    const delayMs = backoffDelay(failures, backoff, random);
    failures++;
    state = "waiting";
    timer = clock.setTimeout(open, delayMs);
    events.emit("reconnecting", { attempt: failures, delayMs });
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
    timer = undefined;
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
      clock.clearTimeout(timer);
      timer = undefined;
      socket?.close(1000, "driver closing");
    },
  };
}

export type StationDriver = ReturnType<typeof createStationDriver>;
