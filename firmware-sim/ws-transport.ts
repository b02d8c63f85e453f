/**
 * A device's link to the station over `/ws/iot?deviceId=&token=` (CONTRACT.md section 4):
 * frames `{"topic":"<suffix>","payload":{…}}` both ways, the suffixes and payloads of the
 * MQTT protocol (section 3). The socket closing is the device going offline: there is no
 * last will. Lost connections come back with capped, jittered backoff.
 */
import { type BackoffOptions, backoffDelay, type Clock, type TimerHandle } from "../src/core/index.ts";
import type { Logger } from "../src/logging/index.ts";
import { type IotFrame, iotFrameSchema } from "../src/protocol/index.ts";

export interface IotSocketTransportOptions {
  /** The station's address: `ws://host:port` (`/ws/iot` is added) or `http://host:port`. */
  url: string;
  deviceId: string;
  token: string;
  clock: Clock;
  log: Logger;
  /** Default `{ initialMs: 1000, maxMs: 30_000, jitter: 0.2 }`; `false` never reconnects. */
  reconnect: BackoffOptions | false;
  random?: () => number;
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
  onOpen(): void;
  onFrame(topic: string, payload: unknown): void;
  onClose(code: number): void;
  /** The station will not take this device (wrong token, device removed, replaced): stay quiet. */
  onRefused(error: Error): void;
}

export interface IotSocketTransport {
  readonly connected: boolean;
  connect(): void;
  /** Sends one frame; rejects when the socket is not open (a WebSocket has no QoS 1 to retry). */
  send(topic: string, payload: unknown): Promise<void>;
  /** Sends text as is: for tests that feed the station malformed frames. */
  sendRaw(text: string): Promise<void>;
  /** Closes and reconnects at once, as an ESP32 restart would. */
  restart(): void;
  /** graceful = a close frame; otherwise the TCP connection just drops (power cut). */
  close(graceful: boolean): Promise<void>;
}

/** Close codes after which reconnecting is pointless: the station removed or replaced us. */
const quietCloses: Record<number, string> = {
  4001: "another connection with this deviceId replaced this one",
  4003: "the station removed this device",
};

export function iotSocketUrl(base: string, deviceId: string, token: string): string {
  const u = new URL(base);
  u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
  u.pathname = "/ws/iot";
  u.search = new URLSearchParams({ deviceId, token }).toString();
  return u.toString();
}

/** A refused upgrade looks like close 1006 to a WebSocket; a plain GET shows the 401. */
async function refusedByStation(options: IotSocketTransportOptions): Promise<boolean> {
  const u = new URL(iotSocketUrl(options.url, options.deviceId, options.token));
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  try {
    const res = await (options.fetchImpl ?? fetch)(u, { signal: AbortSignal.timeout(5_000) });
    return res.status === 401;
  } catch {
    return false;
  }
}

export function createIotSocketTransport(options: IotSocketTransportOptions): IotSocketTransport {
  const { clock, log } = options;
  const Impl = options.WebSocketImpl ?? WebSocket;
  let socket: WebSocket | undefined;
  let attempt = 0;
  let retry: TimerHandle | undefined;
  let closed = true;
  let restarting = false;

  const scheduleReconnect = () => {
    if (options.reconnect === false || closed) return;
    const delay = backoffDelay(attempt++, options.reconnect, options.random);
    retry = clock.setTimeout(connect, delay);
  };

  const onSocketClose = async (ws: WebSocket, opened: boolean, code: number, reason: string) => {
    if (ws !== socket) return;
    socket = undefined;
    options.onClose(code);
    if (restarting) {
      restarting = false;
      return connect();
    }
    if (closed) return;
    const quiet = quietCloses[code];
    if (quiet) {
      closed = true;
      return options.onRefused(new Error(`${options.deviceId}: ${quiet} (close ${code} ${reason})`.trim()));
    }
    if (!opened && (await refusedByStation(options))) {
      closed = true;
      return options.onRefused(
        new Error(`${options.deviceId}: the station refused the device token (HTTP 401 on /ws/iot)`),
      );
    }
    log.warn("/ws/iot connection lost", { code, reason, attempt });
    scheduleReconnect();
  };

  function connect() {
    closed = false;
    clock.clearTimeout(retry);
    const ws = new Impl(iotSocketUrl(options.url, options.deviceId, options.token));
    socket = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      attempt = 0;
      options.onOpen();
    });
    ws.addEventListener("message", (event) => {
      let frame: IotFrame;
      try {
        frame = iotFrameSchema.parse(JSON.parse(String(event.data)));
      } catch {
        return log.warn("ignoring a malformed /ws/iot frame", { frame: String(event.data).slice(0, 200) });
      }
      options.onFrame(frame.topic, frame.payload);
    });
    ws.addEventListener("close", (event) => {
      onSocketClose(ws, opened, event.code, event.reason).catch((error) =>
        log.warn("handling a closed /ws/iot socket failed", { error }),
      );
    });
  }

  const sendRaw = async (text: string) => {
    if (socket?.readyState !== WebSocket.OPEN)
      throw new Error(`${options.deviceId}: /ws/iot is not connected`);
    socket.send(text);
  };

  return {
    get connected() {
      return socket?.readyState === WebSocket.OPEN;
    },
    connect,
    send: (topic, payload) => sendRaw(JSON.stringify({ topic, payload } satisfies IotFrame)),
    sendRaw,
    restart() {
      if (!socket) return connect();
      restarting = true;
      socket.close(1000, "rebooting");
    },
    close(graceful) {
      closed = true;
      clock.clearTimeout(retry);
      const ws = socket;
      socket = undefined;
      if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      const done = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
      // Bun's client can drop the TCP connection without a close frame, like a power cut.
      const terminate = (ws as { terminate?: () => void }).terminate;
      if (!graceful && terminate) terminate.call(ws);
      else ws.close(1000, "device stopping");
      return done;
    },
  };
}
