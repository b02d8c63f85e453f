/**
 * `Platform.listenTcp` on node:net, for Deno (whose node:net is complete); and the adapter from
 * any Node duplex byte stream to a TcpConnection, which tests use over a PassThrough.
 */
import { type AddressInfo, createServer } from "node:net";
import type { Duplex } from "node:stream";
import type { TcpConnection, TcpConnectionHandlers, TcpListener } from "./types.ts";

/** A node:net socket, or any duplex byte stream, as a TcpConnection reporting to its handlers. */
export function duplexConnection(
  socket: Duplex & { remoteAddress?: string | undefined },
  accept: (connection: TcpConnection) => TcpConnectionHandlers,
): TcpConnection {
  const connection: TcpConnection = {
    remoteAddress: socket.remoteAddress,
    write: (chunk) => socket.write(chunk),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
  const handlers = accept(connection);
  let failure: Error | undefined;
  socket.on("data", (chunk: Buffer) => handlers.onData(chunk));
  socket.on("end", () => handlers.onEnd());
  socket.on("drain", () => handlers.onDrain());
  socket.on("error", (error: Error) => {
    failure = error;
  });
  socket.on("close", () => handlers.onClose(failure));
  return connection;
}

export function listenNodeTcp(
  options: { hostname: string; port: number },
  accept: (connection: TcpConnection) => TcpConnectionHandlers,
): Promise<TcpListener> {
  const server = createServer((socket) => duplexConnection(socket, accept));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      // Accept failures after this (too many open files) drop that connection, not the server.
      server.on("error", () => {});
      resolve({
        port: (server.address() as AddressInfo).port, // a TCP server always has one
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
