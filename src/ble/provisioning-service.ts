import {
  type Clock,
  type EventBus,
  StationError,
  type StationEvents,
  type TimerHandle,
} from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { PushData } from "../protocol/index.ts";
import type { BleBridgeProcess } from "./ble-bridge-types.ts";
import {
  type BleDiscovered,
  connectAndWriteCommand,
  startScanCommand,
  stopScanCommand,
} from "./ble-messages.ts";

/** The GATT service OpenGenie firmware advertises while unprovisioned, and its credentials characteristic. */
export const PROVISIONING_SERVICE_UUID = "4f47e000-8d3b-4c55-9c8f-6f70656e6765";
export const PROVISIONING_CHARACTERISTIC_UUID = "4f47e001-8d3b-4c55-9c8f-6f70656e6765";

export type Candidate = PushData<"provisioning.candidate">;

export interface ProvisionRequest {
  address: string;
  ssid: string;
  password: string;
  name: string;
  type: string;
  /** How long to wait for the device to join after the write; default joinTimeoutMs. */
  joinTimeoutSec?: number;
}

export interface ProvisioningDeps {
  bridge: BleBridgeProcess;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  stationId: string;
  broker: () => { host: string; port: number };
  createDevice(name: string, type: string): Promise<{ deviceId: string; token: string }>;
  removeDevice(deviceId: string): Promise<void>;
  writeTimeoutMs?: number;
  joinTimeoutMs?: number;
}

/**
 * BLE provisioning: scan while anyone watches, write Wi-Fi and MQTT credentials into a chosen
 * ESP32, and report whether it then joined. The device joins over MQTT like any other.
 */
export function createProvisioningService(deps: ProvisioningDeps) {
  const { bridge, clock, logger } = deps;
  const candidates = new Map<string, Candidate>();
  const writes = new Map<string, (result: { ok: boolean; error?: string }) => void>();
  let watchers = 0;
  let started = false;
  let scanning = false;
  const offs: (() => void)[] = [];

  function ensureBridge() {
    if (started) return;
    started = true;
    offs.push(
      bridge.onMessage((msg) => {
        if (msg.type === "discovered") return onDiscovered(msg);
        if (msg.type === "scan_started" || msg.type === "scan_stopped")
          scanning = msg.type === "scan_started";
        if (msg.type === "write_result") writes.get(msg.address)?.({ ok: msg.ok, error: msg.error });
        if (msg.type === "error")
          logger.warn("BLE helper reported an error", { code: msg.code, message: msg.message });
      }),
      bridge.onStatus((change) => {
        if (change.status !== "ready") scanning = false;
        // A restarted helper (crash, or BLE fixed) resumes the scan anyone is still watching.
        if (change.status === "ready" && watchers > 0)
          bridge.send(startScanCommand(PROVISIONING_SERVICE_UUID));
      }),
    );
    void bridge.start();
  }

  function onDiscovered(msg: BleDiscovered) {
    if (watchers === 0) return;
    const candidate = { address: msg.address, name: msg.name, rssi: msg.rssi, seenAt: clock.now() };
    candidates.set(msg.address, candidate);
    deps.bus.emit("provisioning.candidate", candidate);
  }

  function unavailable(radioError?: string): StationError {
    const why = radioError ?? bridge.lastError?.message ?? "the BLE helper is not running";
    return new StationError(
      "BLE_UNAVAILABLE",
      `Bluetooth is not usable: ${why}. Run 'opengenie doctor' for what to install or fix.`,
      bridge.lastError,
    );
  }

  function writeCredentials(
    address: string,
    payload: Record<string, unknown>,
  ): Promise<{ ok: boolean; error?: string }> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (result: { ok: boolean; error?: string }) => {
        clock.clearTimeout(timer);
        writes.delete(address);
        resolve(result);
      };
      writes.set(address, done);
      timer = clock.setTimeout(
        () => done({ ok: false, error: "no answer from the BLE helper" }),
        deps.writeTimeoutMs ?? 30_000,
      );
      const sent = bridge.send(
        connectAndWriteCommand({
          address,
          serviceUuid: PROVISIONING_SERVICE_UUID,
          characteristicUuid: PROVISIONING_CHARACTERISTIC_UUID,
          payload: payload as never,
        }),
      );
      if (!sent) done({ ok: false, error: "the BLE helper is not running" });
    });
  }

  /** Waits for a starting helper to say ready or fail; true when it is ready. */
  function settled(timeoutMs = 5000): Promise<boolean> {
    if (bridge.status !== "starting") return Promise.resolve(bridge.status === "ready");
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => finish(), timeoutMs);
      const off = bridge.onStatus((change) => {
        if (change.status !== "starting") finish();
      });
      function finish() {
        off();
        clock.clearTimeout(timer);
        resolve(bridge.status === "ready");
      }
    });
  }

  /**
   * The helper says `ready` before it touches BlueZ, so before creating a device the radio is
   * proven by a scan actually starting (or already running); otherwise BLE_UNAVAILABLE.
   */
  function radioWorks(timeoutMs = 5000): Promise<{ ok: boolean; error?: string }> {
    if (scanning) return Promise.resolve({ ok: true });
    return new Promise((resolve) => {
      const offMessage = bridge.onMessage((m) => {
        if (m.type === "scan_started") finish({ ok: true });
        if (m.type === "error") finish({ ok: false, error: `${m.code}: ${m.message}` });
      });
      const offStatus = bridge.onStatus((c) => {
        if (c.status === "unavailable" || c.status === "stopped") finish({ ok: false });
      });
      const timer = clock.setTimeout(
        () => finish({ ok: false, error: "the BLE helper did not start a scan" }),
        timeoutMs,
      );
      if (!bridge.send(startScanCommand(PROVISIONING_SERVICE_UUID))) finish({ ok: false });
      function finish(result: { ok: boolean; error?: string }) {
        offMessage();
        offStatus();
        clock.clearTimeout(timer);
        resolve(result);
      }
    });
  }

  function waitForJoin(deviceId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const off = deps.bus.on("device.status", (e) => {
        if (e.deviceId === deviceId && e.online) finish(true);
      });
      const timer = clock.setTimeout(() => finish(false), timeoutMs);
      function finish(joined: boolean) {
        off();
        clock.clearTimeout(timer);
        resolve(joined);
      }
    });
  }

  async function complete(request: ProvisionRequest, deviceId: string, token: string) {
    const broker = deps.broker();
    const written = await writeCredentials(request.address, {
      ssid: request.ssid,
      password: request.password,
      mqtt_host: broker.host,
      mqtt_port: broker.port,
      device_id: deviceId,
      device_token: token,
      station_id: deps.stationId,
    });
    let error: string | undefined;
    if (!written.ok)
      error = `could not write the credentials over Bluetooth: ${written.error ?? "unknown error"}; move closer and try again`;
    else if (
      !(await waitForJoin(
        deviceId,
        request.joinTimeoutSec ? request.joinTimeoutSec * 1000 : (deps.joinTimeoutMs ?? 90_000),
      ))
    ) {
      error =
        "credentials written but the device never joined: check the Wi-Fi password and that the station is reachable from the Wi-Fi";
    }
    if (error) {
      // A device that never joined leaves no half-made entry or live credential behind.
      await deps
        .removeDevice(deviceId)
        .catch((err) => logger.warn("could not remove unjoined device", { deviceId, err }));
      logger.warn("provisioning failed", { address: request.address, deviceId, error });
    } else {
      candidates.delete(request.address);
      logger.info("device provisioned", { address: request.address, deviceId });
    }
    deps.bus.emit("provisioning.result", { deviceId, ok: !error, ...(error ? { error } : {}) });
    // A scan started only to prove the radio stops once nobody watches and nothing is pending.
    if (watchers === 0 && writes.size === 0) bridge.send(stopScanCommand());
  }

  return {
    candidates: () => [...candidates.values()].sort((a, b) => b.rssi - a.rssi),
    /** Channel hooks: the first watcher starts the scan, the last one stops it and clears the list. */
    hooks: {
      onFirstSubscriber() {
        watchers = 1;
        ensureBridge();
        if (bridge.status === "ready") bridge.send(startScanCommand(PROVISIONING_SERVICE_UUID));
      },
      onLastUnsubscribed() {
        watchers = 0;
        bridge.send(stopScanCommand());
        candidates.clear();
      },
      replay: () =>
        [...candidates.values()].map((data) => ({ event: "provisioning.candidate" as const, data })),
    },
    /** Creates the device, then writes, waits and reports on the `provisioning` channel. */
    async provision(request: ProvisionRequest): Promise<{ deviceId: string }> {
      ensureBridge();
      if (!(await settled())) throw unavailable();
      const radio = await radioWorks();
      if (!radio.ok) throw unavailable(radio.error);
      if (writes.has(request.address))
        throw new StationError("CONFLICT", `already provisioning ${request.address}`);
      const { deviceId, token } = await deps.createDevice(request.name, request.type);
      void complete(request, deviceId, token).catch((err) => logger.error("provisioning crashed", { err }));
      return { deviceId };
    },
    /** What the helper is doing, for the API and `opengenie doctor`. */
    status: () => ({
      scanning,
      helper: { status: bridge.status, restarts: bridge.restarts, lastError: bridge.lastError },
    }),
    async stop() {
      for (const off of offs.splice(0)) off();
      for (const done of [...writes.values()]) done({ ok: false, error: "station shutting down" });
      if (started) await bridge.stop();
    },
  };
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>;
