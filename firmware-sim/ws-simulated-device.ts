/**
 * The simulated ESP32 of simulated-device.ts, speaking `/ws/iot` instead of MQTT: the same
 * device logic (device-runtime.ts), the same public shape. Only the link differs: frames,
 * close codes and backoff live in ws-transport.ts.
 */
import type { DeviceLink, DeviceLinkContext } from "./device-link.ts";
import { createDeviceRuntime } from "./device-runtime.ts";
import type { SimulatedDevice, SimulatedDeviceOptions } from "./simulated-device-types.ts";
import { createIotSocketTransport } from "./ws-transport.ts";

export interface WsSimulatedDeviceOptions
  extends Omit<SimulatedDeviceOptions, "url" | "stationId" | "clientIdSuffix"> {
  /** The station's HTTP/WebSocket address, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** Not on the wire (no topics over /ws/iot); kept so MQTT options can be reused as they are. */
  stationId?: string;
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
}

const noTopics = (what: string) => () =>
  Promise.reject(new Error(`${what}: /ws/iot has no topics; use the MQTT transport for ACL tests`));

export function createWsSimulatedDevice(options: WsSimulatedDeviceOptions): SimulatedDevice {
  const runtimeOptions = { ...options, peer: "station", logFields: { transport: "ws" } };
  return createDeviceRuntime(runtimeOptions, (context) => createWsLink(options, context));
}

function createWsLink(
  options: WsSimulatedDeviceOptions,
  { clock, log, hooks }: DeviceLinkContext,
): DeviceLink {
  const transport = createIotSocketTransport({
    url: options.url,
    deviceId: options.deviceId,
    token: options.token,
    clock,
    log,
    random: options.random,
    WebSocketImpl: options.WebSocketImpl,
    fetchImpl: options.fetchImpl,
    reconnect:
      options.reconnect === false
        ? false
        : { initialMs: options.reconnectPeriodMs ?? 1_000, maxMs: 30_000, jitter: 0.2 },
    onOpen: hooks.opened,
    onFrame: hooks.received,
    onClose: hooks.closed,
    onRefused: hooks.refused,
  });
  return {
    get connected() {
      return transport.connected;
    },
    connect: transport.connect,
    restart: transport.restart,
    shutdown: transport.close,
    send: transport.send,
    raw: {
      publishRaw: (suffix, payload) =>
        transport.sendRaw(`{"topic":${JSON.stringify(suffix)},"payload":${payload}}`),
      publishToTopic: noTopics("publishToTopic"),
      subscribeRaw: noTopics("subscribeRaw"),
    },
  };
}
