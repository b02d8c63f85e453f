import type { OutboundSocket, OutboundSocketHandlers } from "../types.ts";

/**
 * Deno's WebSocket client for the cloud link. Certificate and name verification are always on
 * (Deno has no switch to turn them off per socket); `ca` is added to the trusted roots through
 * `Deno.createHttpClient({caCerts})`, handed to the WebSocket as its non-standard `client`
 * option (Deno 2.x; unlike Bun's `tls.ca` it adds to the system roots rather than replacing
 * them). Deno's client cannot send ping frames nor report pongs, so the socket has no `ping`:
 * the cloud link probes the relay with a JSON-RPC request instead (docs/deno.md).
 */
export function connectDenoWebSocket(
  url: string,
  options: { ca?: string },
  handlers: OutboundSocketHandlers,
): OutboundSocket {
  let closed = false;
  let client: Deno.HttpClient | undefined;
  let ws: WebSocket | undefined;
  const end = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    client?.close();
    client = undefined;
    handlers.close(code, reason);
  };
  try {
    client = options.ca ? Deno.createHttpClient({ caCerts: [options.ca] }) : undefined;
    const init = client ? { client } : undefined;
    ws = new WebSocket(url, init as unknown as string[]);
  } catch (err) {
    // A malformed URL or CA file: reported like any failed connect, never thrown at the caller.
    const reason = (err as Error).message;
    queueMicrotask(() => end(1006, reason));
  }
  if (ws) {
    const socket = ws;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => handlers.open());
    socket.addEventListener("message", (event) => {
      // The cloud speaks text; a binary frame is handed on as text and fails to parse there.
      handlers.message(typeof event.data === "string" ? event.data : "\u0000binary");
    });
    // Deno's error event names the cause ("… invalid peer certificate: UnknownIssuer").
    socket.addEventListener("error", (event) =>
      end(1006, (event as ErrorEvent).message || "connection error"),
    );
    // A connection that never opened closes with code 0; report it as the abnormal close it is.
    socket.addEventListener("close", (event) => end(event.code || 1006, event.reason));
  }
  return {
    send: (text) => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(text);
    },
    get bufferedAmount() {
      return ws?.bufferedAmount ?? 0;
    },
    close: (code, reason) => {
      try {
        ws?.close(code, reason);
      } catch {
        ws?.close();
      }
      // A dead peer never completes the closing handshake: report the end now, not at TCP timeout.
      end(code ?? 1000, reason ?? "closed");
    },
  };
}
