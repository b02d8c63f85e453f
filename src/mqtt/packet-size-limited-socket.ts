import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import {
  createPacketSizeTracker,
  DEFAULT_PACKET_SIZE_LIMITS,
  type PacketSizeLimits,
  type PacketSizeVerdict,
} from "./mqtt-packet-size.ts";

/** The parts of a socket this wrapper uses (node:net's Socket, or any duplex byte stream). */
type ByteStream = Pick<Duplex, "on" | "pause" | "resume" | "write" | "once" | "end" | "destroy">;

/**
 * The socket as aedes sees it: every byte passes through unchanged, but the packet sizes are
 * checked as the bytes arrive, before aedes' parser (mqtt-packet) buffers anything. A packet
 * announcing more than the limits ends the connection on the spot, authenticated or not.
 * Backpressure runs both ways: aedes not reading pauses the socket, a full socket delays
 * aedes' writes.
 */
export class PacketSizeLimitedSocket extends Duplex {
  readonly #socket: ByteStream;

  constructor(
    socket: ByteStream,
    onRefused: (verdict: Exclude<PacketSizeVerdict, { ok: true }>) => void,
    limits: PacketSizeLimits = DEFAULT_PACKET_SIZE_LIMITS,
  ) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    const tracker = createPacketSizeTracker(limits);
    socket.on("data", (chunk: Buffer) => {
      if (this.destroyed) return;
      const verdict = tracker.feed(chunk);
      if (!verdict.ok) {
        onRefused(verdict);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    let ended = false;
    socket.on("end", () => {
      ended = true;
      this.push(null);
    });
    socket.on("error", (error) => this.destroy(error));
    // After a normal end, what aedes has not read yet (a last PUBLISH, a DISCONNECT) is
    // still delivered before this side closes too; any other close is an abort.
    socket.on("close", () => {
      if (!ended || this.readableLength === 0) this.destroy();
      else this.once("end", () => this.destroy());
    });
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  #send(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#socket.write(chunk)) callback();
    else this.#socket.once("drain", () => callback());
  }

  /**
   * Chunks written while the stream was corked (mqtt-packet corks for each packet until the
   * next tick) go out as one socket write instead of one per chunk: a PUBACK was 2-3 writes.
   */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#send(data, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
