/**
 * `Platform.listenTcp`, Bun's (Bun.listen) and node:net's (Deno's), held to the same contract
 * over real loopback sockets: bytes arrive whole and in order, a full socket queues and reports
 * the drain, `end` sends what is queued before closing, and close is reported once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { listenBunTcp } from "./bun/bun-tcp.ts";
import { listenNodeTcp } from "./node-tcp.ts";
import type { TcpConnection, TcpConnectionHandlers, TcpListener } from "./types.ts";

interface Recorded extends TcpConnectionHandlers {
  connection: TcpConnection;
  received: Buffer[];
  events: string[];
  closed: Promise<Error | undefined>;
  drained(): Promise<void>;
}

let listener: TcpListener | undefined;
const peers: Socket[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy();
  await listener?.close();
  listener = undefined;
});

/** Listens on a free loopback port; resolves with the server side of the next connection. */
async function accepted(listen: typeof listenBunTcp, peer: (port: number) => Socket) {
  let resolveAccepted: (r: Recorded) => void;
  const next = new Promise<Recorded>((resolve) => {
    resolveAccepted = resolve;
  });
  listener = await listen({ hostname: "127.0.0.1", port: 0 }, (connection) => {
    let closed!: (error: Error | undefined) => void;
    let drainWaiters: (() => void)[] = [];
    const recorded: Recorded = {
      connection,
      received: [],
      events: [],
      closed: new Promise((resolve) => {
        closed = resolve;
      }),
      drained: () => new Promise((resolve) => drainWaiters.push(resolve)),
      onData(chunk) {
        recorded.received.push(Buffer.from(chunk));
      },
      onEnd() {
        recorded.events.push("end");
      },
      onClose(error) {
        recorded.events.push("close");
        closed(error);
      },
      onDrain() {
        recorded.events.push("drain");
        for (const waiter of drainWaiters) waiter();
        drainWaiters = [];
      },
    };
    resolveAccepted(recorded);
    return recorded;
  });
  const socket = peer(listener.port);
  peers.push(socket);
  return { server: await next, socket };
}

function peerAt(port: number): Socket {
  return connect(port, "127.0.0.1");
}

function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once("end", () => resolve(Buffer.concat(chunks))));
}

async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** 24 MiB of a pattern that shows a lost, doubled or reordered byte. */
const big = Buffer.alloc(24 * 1024 * 1024);
for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);

for (const [name, listen] of [
  ["Bun.listen", listenBunTcp],
  ["node:net", listenNodeTcp],
] as const) {
  describe(`listenTcp on ${name}`, () => {
    test("bytes from the peer arrive whole and in order, then end, then one close", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      expect(server.connection.remoteAddress).toContain("127.0.0.1");
      socket.end(big);
      expect(await server.closed).toBeUndefined();
      expect(Buffer.concat(server.received).equals(big)).toBe(true);
      expect(server.events).toEqual(["end", "close"]);
    });

    test("a peer that does not read: writes queue, drain follows, every byte arrives in order", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      socket.pause();
      const chunks = Array.from({ length: 24 }, (_, i) =>
        big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024),
      );
      const taken = chunks.map((chunk) => server.connection.write(chunk));
      expect(taken).toContain(false); // 24 MiB do not fit in loopback's buffers
      const drained = server.drained();
      const all = readAll(socket);
      socket.resume();
      await drained;
      server.connection.end();
      expect((await all).equals(big)).toBe(true);
    });

    test("end() sends what is still queued before closing", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      socket.pause();
      expect(server.connection.write(big)).toBe(false);
      server.connection.end();
      const all = readAll(socket);
      socket.resume();
      expect((await all).equals(big)).toBe(true);
    });

    test("pause() stops delivery until resume()", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      socket.write("before");
      await until(() => server.received.length > 0, "the first bytes");
      server.connection.pause();
      socket.write("while paused");
      await Bun.sleep(100);
      expect(Buffer.concat(server.received).toString()).toBe("before");
      server.connection.resume();
      await until(() => Buffer.concat(server.received).toString() === "beforewhile paused", "the rest");
    });

    test("destroy() closes at once, drops the queue, and reports close once", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      socket.pause();
      server.connection.write(big);
      const peerClosed = new Promise((resolve) => socket.once("close", resolve));
      socket.on("error", () => {});
      server.connection.destroy();
      await server.closed;
      socket.resume(); // the peer sees its end only once it reads what reached it
      await peerClosed;
      server.connection.destroy(); // again: nothing more
      await Bun.sleep(50);
      expect(server.events.filter((e) => e === "close")).toEqual(["close"]);
      expect(server.events).not.toContain("drain");
    });

    test("a peer that resets the connection: close is reported", async () => {
      const { server, socket } = await accepted(listen, peerAt);
      socket.resetAndDestroy();
      await server.closed;
      expect(server.events.at(-1)).toBe("close");
    });

    test("a busy port rejects with code EADDRINUSE", async () => {
      const first = await listen({ hostname: "127.0.0.1", port: 0 }, () => {
        throw new Error("no connection expected");
      });
      try {
        const error = await listen({ hostname: "127.0.0.1", port: first.port }, () => {
          throw new Error("no connection expected");
        }).catch((e: NodeJS.ErrnoException) => e);
        expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
      } finally {
        await first.close();
      }
    });
  });
}
