import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client on a bare TCP socket, for behaviour a browser client hides: it never
 * answers pings, it can stop reading (a slow reader), and it sends raw, oversized frames.
 */
export async function rawWebSocket(port: number, path: string) {
  const socket: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: opengenie.v1\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  const frames: RawFrame[] = [];
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };

  function parse() {
    if (!upgraded) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString();
      if (!head.startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
      upgraded = true;
      buffer = buffer.subarray(end + 4);
    }
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let len = buffer[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffer.length < 4) return;
        len = buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffer.length < 10) return;
        len = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + len) return;
      frames.push({ opcode, payload: Buffer.from(buffer.subarray(offset, offset + len)) });
      buffer = buffer.subarray(offset + len);
    }
  }

  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });
  socket.on("error", () => {});

  function sendFrame(opcode: number, payload: Buffer) {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    const len = payload.length;
    const head =
      len < 126
        ? Buffer.from([0x80 | opcode, 0x80 | len])
        : len < 65536
          ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
          : Buffer.concat([
              Buffer.from([0x80 | opcode, 0x80 | 127]),
              (() => {
                const b = Buffer.alloc(8);
                b.writeBigUInt64BE(BigInt(len));
                return b;
              })(),
            ]);
    socket.write(Buffer.concat([head, mask, masked]));
  }

  let cursor = 0;
  return {
    frames,
    get closed() {
      return closed;
    },
    sendText: (text: string) => sendFrame(0x1, Buffer.from(text)),
    /** Stops reading: the kernel buffers fill and the server sees backpressure. */
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    /** Waits for the next frame matching `predicate` (after those already consumed). */
    async waitFor(predicate: (f: RawFrame) => boolean, timeoutMs = 5000): Promise<RawFrame> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < frames.length) {
          const f = frames[cursor++]!;
          if (predicate(f)) return f;
        }
        if (closed) throw new Error("socket closed");
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    closeCode(frame: RawFrame): number {
      return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
    },
    destroy: () => socket.destroy(),
  };
}

export const OPCODE = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;
