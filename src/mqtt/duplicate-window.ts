/**
 * Cheap detection of the duplicates at-least-once delivery makes (docs/scale-out.md): each
 * device's last few message digests. A message the broker marks as redelivered (DUP) whose
 * digest is in the window was handled already and is skipped; one that is not (this process
 * restarted since) is handled again — it may be a duplicate — and counted, never hidden.
 */
import { createHash } from "node:crypto";

const PER_DEVICE = 64;
/** Devices tracked at most; past it the window starts over (made-up device ids cannot grow it). */
const MAX_DEVICES = 20_000;

export function createDuplicateWindow() {
  const recent = new Map<string, string[]>();
  const counts = { skipped: 0, possible: 0 };

  return {
    /** Whether to handle the message; remembers it. */
    admit(deviceId: string, suffix: string, payload: Buffer, redelivered: boolean): boolean {
      const digest = createHash("sha1").update(suffix).update("\n").update(payload).digest("base64");
      let list = recent.get(deviceId);
      if (redelivered && list?.includes(digest)) {
        counts.skipped++;
        return false;
      }
      if (redelivered) counts.possible++;
      if (!list) {
        if (recent.size >= MAX_DEVICES) recent.clear();
        list = [];
        recent.set(deviceId, list);
      }
      list.push(digest);
      if (list.length > PER_DEVICE) list.shift();
      return true;
    },
    /** `skipped`: seen before and not handled again; `possible`: redelivered after a restart, handled. */
    counts: () => ({ ...counts }),
  };
}
