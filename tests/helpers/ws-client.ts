import { z } from "zod";
import {
  serverFrameSchema,
  stationDriverFrameSchema,
  stationIotFrameSchema,
} from "../../src/protocol/index.ts";

/**
 * A test WebSocket client that queues every frame so tests can await the next one. Every frame
 * the station sends is checked against the protocol module (on `/ws/iot` what the station
 * sends a device, on `/driver` what it sends a driver, elsewhere the app frames): a frame the
 * protocol does not describe fails the test at its next wait, so every socket test also proves
 * that the server emits the protocol.
 */
export interface TestSocket {
  ws: WebSocket;
  frames: unknown[];
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Waits for a frame matching `predicate`, skipping others. */
  waitFor(
    predicate: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  request(type: string, payload?: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

let requestCounter = 0;

const frameSchemas: Record<string, z.ZodType> = {
  "/ws/iot": stationIotFrameSchema,
  "/driver": stationDriverFrameSchema,
};

export function openSocket(
  url: string,
  protocols?: string[],
  init: { headers?: Record<string, string> } = {},
): Promise<TestSocket> {
  // Bun's WebSocket takes request headers (a driver's Authorization: Bearer) beside the protocols.
  const ws = init.headers
    ? new WebSocket(url, { protocols, headers: init.headers } as unknown as string[])
    : new WebSocket(url, protocols);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const schema = frameSchemas[new URL(url).pathname] ?? serverFrameSchema;
  const offProtocol: string[] = [];
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data));
    const parsed = schema.safeParse(frame);
    if (!parsed.success) offProtocol.push(`${String(event.data)}\n${z.prettifyError(parsed.error)}`);
    frames.push(frame);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      for (const w of waiters.splice(0)) w();
    });
  });
  let cursor = 0;
  const waitFor = async (predicate: (f: Record<string, unknown>) => boolean, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (offProtocol.length > 0)
        throw new Error(`the station sent a frame off the protocol: ${offProtocol[0]}`);
      while (cursor < frames.length) {
        const frame = frames[cursor++]!;
        if (predicate(frame)) return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  const socket: TestSocket = {
    ws,
    frames,
    next: (timeoutMs) => waitFor(() => true, timeoutMs),
    waitFor,
    request(type, payload, timeoutMs) {
      const id = `r${++requestCounter}`;
      ws.send(JSON.stringify({ id, type, payload }));
      return waitFor((f) => f.id === id, timeoutMs);
    },
    closed,
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve(socket), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
}

/** The HTTP status the server answers to an upgrade request (401 before upgrade, 101 on success). */
export async function upgradeStatus(httpUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(httpUrl, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": btoa("0123456789abcdef"),
      ...headers,
    },
  });
  return res.status;
}
