import type { OutboundSocket, OutboundSocketHandlers } from "../types.ts";

/**
 * Bun's WebSocket client: certificate verification is on (never `rejectUnauthorized: false`);
 * `tls.ca` replaces the trusted roots for a private CA. Bun's client also pings and hears pongs,
 * which the browser API cannot.
 */
export function connectBunWebSocket(
  url: string,
  options: { ca?: string },
  handlers: OutboundSocketHandlers,
): OutboundSocket {
  const init = { tls: { rejectUnauthorized: true, ...(options.ca ? { ca: options.ca } : {}) } };
  const ws = new WebSocket(url, init as unknown as string[]);
  let closed = false;
  const end = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    handlers.close(code, reason);
  };
  ws.addEventListener("open", () => handlers.open());
  ws.addEventListener("message", (event) => {
    // The cloud speaks text; a binary frame is handed on as text and fails to parse there.
    handlers.message(typeof event.data === "string" ? event.data : "\u0000binary");
  });
  ws.addEventListener("pong" as "open", () => handlers.pong());
  // Bun's error event names the cause (e.g. "TLS handshake failed: self signed certificate").
  ws.addEventListener("error", (event) => end(1006, (event as ErrorEvent).message || "connection error"));
  ws.addEventListener("close", (event) => end(event.code, event.reason));
  return {
    send: (text) => ws.send(text),
    ping: () => (ws as unknown as { ping(): void }).ping(),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
      // A dead peer never completes the closing handshake: report the end now, not at TCP timeout.
      end(code ?? 1000, reason ?? "closed");
    },
  };
}
