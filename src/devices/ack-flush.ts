import type { Clock, TimerHandle } from "../core/index.ts";
import type { BatchedWriter } from "../storage/index.ts";

/** Deferred MQTT acks (docs/scale-out.md): flush once this many wait, or after this long. */
const ACK_FLUSH_AT = 16;
const ACK_FLUSH_MS = 50;

/**
 * What an external broker's deferred PUBACKs wait for: the commit of what the messages handled
 * so far wrote. The writer flushes early for them (after 16 waiting or 50 ms), so a device's
 * acknowledgement is not held for the writer's whole second.
 */
export function createAckFlush(writer: BatchedWriter, clock: Clock) {
  let timer: TimerHandle | undefined;
  return {
    durable(): Promise<void> {
      const written = writer.whenWritten();
      if (writer.waiting >= ACK_FLUSH_AT) {
        clock.clearTimeout(timer);
        timer = undefined;
        void writer.flush();
      } else
        timer ??= clock.setTimeout(() => {
          timer = undefined;
          void writer.flush();
        }, ACK_FLUSH_MS);
      return written;
    },
    stop() {
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
