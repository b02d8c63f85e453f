/**
 * `Platform.listenTcp` on Bun's own sockets: about 5 KB less per connection than node:net, whose
 * sockets are Node streams on top of these (issue 17, docs/performance.md). Bun's `write` sends
 * what the kernel takes and returns the count; the rest is queued here until `drain`.
 */
import type { Socket } from "bun";
import type { TcpConnection, TcpConnectionHandlers, TcpListener } from "../types.ts";

/** `pause`/`resume` exist on Bun's sockets (node:net's backpressure uses them) but not in bun-types. */
type PausableSocket = Socket<BunTcpConnection> & { pause(): void; resume(): void };

class BunTcpConnection implements TcpConnection {
  handlers: TcpConnectionHandlers | undefined;
  readonly #socket: PausableSocket;
  /** Bytes the kernel did not take yet, in order; undefined while nothing waits. */
  #queued: Uint8Array[] | undefined;
  #ending = false;
  #closed = false;
  #failure: Error | undefined;

  constructor(socket: PausableSocket) {
    this.#socket = socket;
  }

  get remoteAddress(): string {
    return this.#socket.remoteAddress;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#closed || this.#ending) return true; // dropped: the connection is going away
    if (this.#queued) {
      this.#queued.push(chunk);
      return false;
    }
    const sent = this.#socket.write(chunk);
    if (sent >= chunk.byteLength) return true;
    this.#queued = [chunk.subarray(Math.max(sent, 0))];
    return false;
  }

  /** Bun's `drain`: send what waits; once all is sent, end if asked and tell the owner. */
  flush(): void {
    const queued = this.#queued;
    if (!queued || this.#closed) return;
    while (queued.length > 0) {
      const chunk = queued[0]!;
      const sent = this.#socket.write(chunk);
      if (sent < chunk.byteLength) {
        queued[0] = chunk.subarray(Math.max(sent, 0));
        return;
      }
      queued.shift();
    }
    this.#queued = undefined;
    if (this.#ending) this.#socket.end();
    this.handlers?.onDrain();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#queued) this.#socket.end();
  }

  destroy(): void {
    if (!this.#closed) this.#socket.terminate();
  }

  failed(error: Error): void {
    this.#failure ??= error;
  }

  closed(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queued = undefined;
    this.handlers?.onClose(error ?? this.#failure);
  }
}

export function listenBunTcp(
  options: { hostname: string; port: number },
  accept: (connection: TcpConnection) => TcpConnectionHandlers,
): Promise<TcpListener> {
  try {
    const listener = Bun.listen<BunTcpConnection>({
      hostname: options.hostname,
      port: options.port,
      socket: {
        open(socket) {
          const connection = new BunTcpConnection(socket as PausableSocket);
          socket.data = connection;
          connection.handlers = accept(connection);
        },
        data: (socket, chunk) => socket.data.handlers?.onData(chunk),
        end: (socket) => socket.data.handlers?.onEnd(),
        drain: (socket) => socket.data.flush(),
        error: (socket, error) => socket.data.failed(error),
        close: (socket, error) => socket.data.closed(error),
      },
    });
    return Promise.resolve({
      port: listener.port,
      close: () => {
        listener.stop(false);
        return Promise.resolve();
      },
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
