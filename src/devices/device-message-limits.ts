/**
 * How much one device may write to the event log (issue 9, finding 5: 2,000 events of 60 KiB
 * in 3.3 s grew the database from 4.7 MB to 251 MB). Per device, on the injected clock:
 * events at 20 per second with bursts of up to 100, and no message over 64 KiB. What is over
 * is dropped and counted, never an error the device sees.
 */
import { Buffer } from "node:buffer";
import { createTokenBucket, type TokenBucket } from "../core/index.ts";
import { MAX_PAYLOAD_BYTES } from "./device-messages.ts";

export const EVENTS_PER_SECOND = 20;
export const EVENT_BURST = 100;

/** Why a device message was dropped (the `reason` label of `opengenie_device_messages_dropped_total`). */
export type DropReason = "rate" | "size";

/** Two budgets per device: its event messages, and the history rows of its state reports. */
interface DeviceBudget {
  events: TokenBucket;
  stateHistory: TokenBucket;
}

export function createDeviceMessageLimits() {
  const budgets = new Map<string, DeviceBudget>();
  const dropped: Record<DropReason, number> = { rate: 0, size: 0 };
  let stateHistorySkipped = 0;

  const budget = (deviceId: string, now: number) => {
    let b = budgets.get(deviceId);
    if (!b) {
      b = {
        events: createTokenBucket(EVENT_BURST, EVENTS_PER_SECOND, now),
        stateHistory: createTokenBucket(EVENT_BURST, EVENTS_PER_SECOND, now),
      };
      budgets.set(deviceId, b);
    }
    return b;
  };

  return {
    /**
     * Whether a known device's raw message is over a limit: its size for any topic, the rate
     * for events. Checked before parsing, so a flood costs no JSON parsing either.
     */
    check(deviceId: string, suffix: string, raw: string, now: number): DropReason | undefined {
      // A UTF-16 length within a third of the limit cannot exceed it in UTF-8 bytes.
      if (raw.length * 3 > MAX_PAYLOAD_BYTES && Buffer.byteLength(raw, "utf8") > MAX_PAYLOAD_BYTES)
        return "size";
      if (suffix === "event" && budget(deviceId, now).events.take(now) > 0) return "rate";
      return undefined;
    },
    /**
     * A state report is always applied (the latest state is one row per device); only its row
     * in the event log shares the events' rate, so a state flood cannot fill the disk either.
     */
    logStateReport(deviceId: string, now: number): boolean {
      if (budget(deviceId, now).stateHistory.take(now) === 0) return true;
      stateHistorySkipped++;
      return false;
    },
    count(reason: DropReason) {
      dropped[reason]++;
    },
    /** Idle devices' budgets are full again; forgetting them keeps the map to active devices. */
    prune(now: number) {
      for (const [deviceId, b] of budgets) {
        if (b.events.full(now) && b.stateHistory.full(now)) budgets.delete(deviceId);
      }
    },
    stats: () => ({ dropped: { ...dropped }, stateHistorySkipped }),
  };
}

export type DeviceMessageLimits = ReturnType<typeof createDeviceMessageLimits>;
