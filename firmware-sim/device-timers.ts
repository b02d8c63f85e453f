/**
 * Every timer a simulated device runs, in one place so stop() and a reboot can clear them all
 * at once (STYLE.md: a stopped service leaves no timer behind). Time comes from the injected
 * clock, so heartbeats and sensor readings are testable without sleeping.
 */
import type { Clock, TimerHandle } from "../src/core/index.ts";
import type { Logger } from "../src/logging/index.ts";
import type { DeviceType } from "../src/protocol/index.ts";
import { sensorTick } from "./device-behaviours.ts";
import type { DeviceOutbox } from "./device-outbox.ts";
import { heartbeatPayload, type SimState } from "./device-protocol.ts";

export interface DeviceTimerDeps {
  clock: Clock;
  random: () => number;
  log: Logger;
  type: DeviceType;
  heartbeatSec: number;
  sensorIntervalMs: number;
  motionHoldMs: number;
  getState: () => SimState;
  merge: (patch: SimState) => void;
  outbox: Pick<DeviceOutbox, "publishJson" | "sendState" | "sendEvent">;
}

export interface DeviceTimers {
  startTimeout(ms: number, onTimeout: () => void): void;
  clearStartTimeout(): void;
  /** Uptime in heartbeats counts from here, like millis() after an ESP32 restart. */
  markBoot(): void;
  sendHeartbeat(): Promise<void>;
  /** Heartbeats, and for sensors/PIR/climate the reading timer; replaces any running ones. */
  startPeriodic(): void;
  triggerMotion(): Promise<void>;
  /** On a lost connection: the start timeout keeps running while MQTT.js reconnects. */
  stopPeriodic(): void;
  stopAll(): void;
}

export function createDeviceTimers(deps: DeviceTimerDeps): DeviceTimers {
  const { clock, log } = deps;
  let bootAt = clock.now();
  let startTimer: TimerHandle | undefined;
  let heartbeatTimer: TimerHandle | undefined;
  let sensorTimer: TimerHandle | undefined;
  let motionClearTimer: TimerHandle | undefined;

  const warn = (what: string) => (error: unknown) => log.warn(`${what} failed`, { error });

  const sendHeartbeat = () => {
    const uptimeSec = Math.floor((clock.now() - bootAt) / 1000);
    const rssi = Math.round(-45 - deps.random() * 25);
    return deps.outbox.publishJson("heartbeat", heartbeatPayload(uptimeSec, rssi));
  };

  const triggerMotion = async () => {
    deps.merge({ motion: true });
    clock.clearTimeout(motionClearTimer);
    motionClearTimer = clock.setTimeout(() => {
      motionClearTimer = undefined;
      deps.merge({ motion: false });
      deps.outbox.sendState({ motion: false }).catch(warn("motion clear"));
    }, deps.motionHoldMs);
    await deps.outbox.sendEvent("device_event", { motion: true });
    await deps.outbox.sendState({ motion: true });
  };

  const readSensor = () => {
    if (deps.type === "pir") {
      triggerMotion().catch(warn("motion event"));
      return;
    }
    const patch = sensorTick(deps.type, deps.getState(), deps.random);
    if (!patch) return;
    deps.merge(patch);
    deps.outbox.sendState(patch).catch(warn("sensor reading"));
  };

  const stopPeriodic = () => {
    clock.clearInterval(heartbeatTimer);
    clock.clearInterval(sensorTimer);
    clock.clearTimeout(motionClearTimer);
    heartbeatTimer = sensorTimer = motionClearTimer = undefined;
  };

  return {
    startTimeout(ms, onTimeout) {
      clock.clearTimeout(startTimer);
      startTimer = clock.setTimeout(onTimeout, ms);
    },
    clearStartTimeout() {
      clock.clearTimeout(startTimer);
      startTimer = undefined;
    },
    markBoot() {
      bootAt = clock.now();
    },
    sendHeartbeat,
    startPeriodic() {
      stopPeriodic();
      heartbeatTimer = clock.setInterval(
        () => sendHeartbeat().catch(warn("heartbeat")),
        deps.heartbeatSec * 1000,
      );
      if (deps.type === "sensor" || deps.type === "pir" || deps.type === "climate") {
        sensorTimer = clock.setInterval(readSensor, deps.sensorIntervalMs);
      }
    },
    triggerMotion,
    stopPeriodic,
    stopAll() {
      stopPeriodic();
      clock.clearTimeout(startTimer);
      startTimer = undefined;
    },
  };
}
