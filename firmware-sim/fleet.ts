/**
 * N simulated devices registered through the station's HTTP API and booted over MQTT, with
 * bounded concurrency so a 1 000-device load test does not open 1 000 sockets in one tick.
 */
import type { DeviceType } from "../src/protocol/index.ts";
import { createSimulatedDevice } from "./simulated-device.ts";
import type { SimulatedDevice, SimulatedDeviceOptions } from "./simulated-device-types.ts";
import { brokerUrl, createStationApiClient, StationApiError } from "./station-api-client.ts";
import { createWsSimulatedDevice } from "./ws-simulated-device.ts";

export interface FleetOptions {
  api: string;
  apiToken: string;
  count: number;
  type?: DeviceType;
  /** Overrides the broker address the station hands out (e.g. when it advertises a LAN IP). */
  url?: string;
  /** Default "mqtt"; "ws" boots every device over the station's /ws/iot. */
  transport?: "mqtt" | "ws";
  /** The /ws/iot address with transport "ws"; default: `api` with ws:// instead of http://. */
  wsUrl?: string;
  concurrency?: number;
  namePrefix?: string;
  /** DELETE the registered devices on stop(), leaving the station as it was. */
  deleteOnStop?: boolean;
  deviceOptions?: Partial<Omit<SimulatedDeviceOptions, "url" | "stationId" | "deviceId" | "token" | "type">>;
  onProgress?: (progress: FleetProgress) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

export type FleetProgress =
  | { kind: "started"; index: number; done: number; name: string; deviceId: string; elapsedMs: number }
  | { kind: "failed"; index: number; done: number; name: string; error: string; elapsedMs: number };

export interface FleetSummary {
  requested: number;
  started: number;
  failed: number;
  errors: { name: string; error: string }[];
  /** Set when the station rejected the API token: the remaining devices were not tried. */
  aborted?: string;
  elapsedMs: number;
}

export interface Fleet {
  readonly devices: readonly SimulatedDevice[];
  start(): Promise<FleetSummary>;
  stop(options?: { graceful?: boolean }): Promise<void>;
}

export function createFleet(options: FleetOptions): Fleet {
  const now = options.now ?? (() => performance.now());
  const api = createStationApiClient(options);
  const type = options.type ?? "light";
  const prefix = options.namePrefix ?? `sim-${type}`;
  const devices: SimulatedDevice[] = [];
  const registeredIds: string[] = [];
  let stopping = false;
  const wsUrl = options.wsUrl ?? options.api.replace(/^http/, "ws");

  const bootOne = async (index: number, startedAt: number, summary: FleetSummary) => {
    const name = `${prefix}-${index + 1}`;
    try {
      const { device, credentials } = await api.createDevice(name, type);
      registeredIds.push(device.id);
      const identity = {
        stationId: credentials.stationId,
        deviceId: credentials.deviceId,
        token: credentials.mqttPassword,
        type,
      };
      const simulated =
        options.transport === "ws"
          ? createWsSimulatedDevice({ ...options.deviceOptions, ...identity, url: wsUrl })
          : createSimulatedDevice({
              ...options.deviceOptions,
              ...identity,
              url: options.url ?? brokerUrl(credentials),
            });
      devices.push(simulated);
      await simulated.start();
      summary.started++;
      const deviceId = credentials.deviceId;
      const done = summary.started + summary.failed;
      options.onProgress?.({ kind: "started", index, done, name, deviceId, elapsedMs: now() - startedAt });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      summary.failed++;
      summary.errors.push({ name, error });
      // Every further request would fail the same way; do not send N of them.
      if (e instanceof StationApiError && (e.status === 401 || e.status === 403)) summary.aborted ??= error;
      const done = summary.started + summary.failed;
      options.onProgress?.({ kind: "failed", index, done, name, error, elapsedMs: now() - startedAt });
    }
  };

  return {
    devices,
    async start() {
      const startedAt = now();
      const summary: FleetSummary = {
        requested: options.count,
        started: 0,
        failed: 0,
        errors: [],
        elapsedMs: 0,
      };
      let nextIndex = 0;
      // A fixed pool of workers pulling indices: at most `concurrency` boots in flight.
      const worker = async () => {
        while (!stopping && !summary.aborted && nextIndex < options.count)
          await bootOne(nextIndex++, startedAt, summary);
      };
      const poolSize = Math.max(1, Math.min(options.concurrency ?? 10, options.count));
      await Promise.all(Array.from({ length: poolSize }, worker));
      summary.elapsedMs = now() - startedAt;
      return summary;
    },
    async stop({ graceful = true } = {}) {
      stopping = true;
      await Promise.allSettled(devices.map((d) => d.stop({ graceful })));
      if (options.deleteOnStop) await Promise.allSettled(registeredIds.map((id) => api.deleteDevice(id)));
    },
  };
}
