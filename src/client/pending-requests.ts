/** Request/response correlation on one client: ids, timeouts, and settling by the reply's id. */
import type { Clock, TimerHandle } from "../core/index.ts";
import type { ErrorFrame, RequestFrame, ResultFrame } from "../protocol/index.ts";
import { StationClientError } from "./station-client-error.ts";

interface Pending {
  resolve(data: unknown): void;
  reject(error: StationClientError): void;
  timer: TimerHandle;
}

/** What a request needs of a socket: the standard WebSocket's `send`. */
export interface FrameSink {
  send(text: string): void;
}

export function createPendingRequests(clock: Clock, defaultTimeoutMs: number) {
  const pending = new Map<string, Pending>();
  let nextId = 0;

  return {
    send<T>(sink: FrameSink, type: string, payload: unknown, timeoutMs = defaultTimeoutMs): Promise<T> {
      const id = `c${++nextId}`;
      return new Promise<T>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          pending.delete(id);
          reject(new StationClientError("TIMEOUT", `no reply to ${type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
        try {
          const frame: RequestFrame = payload === undefined ? { id, type } : { id, type, payload };
          sink.send(JSON.stringify(frame));
        } catch {
          clock.clearTimeout(timer);
          pending.delete(id);
          reject(new StationClientError("DISCONNECTED", `cannot send ${type}: the socket is closing`));
        }
      });
    },
    /** A result or error frame; replies to ids this client did not send are ignored. */
    settle(frame: ResultFrame | ErrorFrame) {
      const id = String(frame.id);
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      clock.clearTimeout(p.timer);
      if (frame.type === "result") p.resolve(frame.data);
      else p.reject(new StationClientError(frame.code, frame.message, frame.details));
    },
    failAll(code: "DISCONNECTED" | "CLOSED", message: string) {
      for (const [id, p] of pending) {
        clock.clearTimeout(p.timer);
        pending.delete(id);
        p.reject(new StationClientError(code, message));
      }
    },
  };
}
