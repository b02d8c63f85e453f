import superjson from "superjson";
import { z } from "zod";
import { moduleServerEventData } from "../../src/protocol/index.ts";

export interface JsonFrame {
  type: string;
  data?: unknown;
  metadata?: unknown;
}

/**
 * A `/ws/modules` peer that speaks plain JSON (as a hand-written module would), queueing every
 * frame. A frame that is not plain JSON (unless `acceptSuperjson`, for a peer that sends both),
 * or a hub event outside the protocol module, fails the test at its next wait.
 */
export async function openJsonSocket(url: string, options: { acceptSuperjson?: boolean } = {}) {
  const ws = new WebSocket(url);
  const frames: JsonFrame[] = [];
  const problems: string[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener("message", (event) => {
    let frame = JSON.parse(String(event.data)) as JsonFrame;
    // A peer that also spoke superjson is answered in it after such a frame.
    if (options.acceptSuperjson && typeof frame.type !== "string" && "json" in frame)
      frame = superjson.deserialize(frame as unknown as Parameters<typeof superjson.deserialize>[0]);
    if (typeof frame.type !== "string") problems.push(`not a plain JSON event: ${String(event.data)}`);
    // Own keys only: a routed event may be named like an Object.prototype member ("toString").
    const schema = Object.hasOwn(moduleServerEventData, frame.type)
      ? moduleServerEventData[frame.type as keyof typeof moduleServerEventData]
      : undefined;
    const parsed = schema?.safeParse(frame.data);
    if (
      parsed &&
      !parsed.success &&
      (frame.metadata as { source?: { plugin?: string } })?.source?.plugin === "opengenie"
    )
      problems.push(`${frame.type}: ${z.prettifyError(parsed.error)}`);
    frames.push(frame);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error(`could not open ${url}`)));
  });
  let cursor = 0;

  async function waitFor(predicate: (f: JsonFrame) => boolean, timeoutMs = 5000): Promise<JsonFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (problems.length) throw new Error(problems.join("\n"));
      while (cursor < frames.length) {
        const f = frames[cursor++]!;
        if (predicate(f)) return f;
      }
      if (ws.readyState === WebSocket.CLOSED) throw new Error("socket closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    ws,
    frames,
    closed,
    waitFor,
    next: (timeoutMs?: number) => waitFor(() => true, timeoutMs),
    close: () => ws.close(),
  };
}

export type JsonSocket = Awaited<ReturnType<typeof openJsonSocket>>;
