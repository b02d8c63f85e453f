/**
 * Test-only: an MQTT peer on a raw socket, for tests that send what a client library would
 * not (packets in one write, resent QoS 2, a second CONNECT, a client that never acks) and
 * read every packet the broker sends back, flags included.
 */
import { connect, type Socket } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";

export interface RawPeer {
  socket: Socket;
  /** Every packet received so far, in order. */
  received: Packet[];
  send(...packets: Packet[]): void;
  sendBytes(bytes: Uint8Array): void;
  /** The next received packet of that kind not yet taken, waiting up to `ms`. */
  next<C extends Packet["cmd"]>(cmd: C, ms?: number): Promise<Extract<Packet, { cmd: C }>>;
  /** Resolves once the broker has closed the connection. */
  closed: Promise<void>;
  end(): void;
}

export async function rawPeer(port: number): Promise<RawPeer> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const parser = mqttPacket.parser();
  const received: Packet[] = [];
  const taken = new Set<Packet>();
  let wake: (() => void) | undefined;
  parser.on("packet", (packet) => {
    received.push(packet);
    wake?.();
  });
  socket.on("data", (chunk: Buffer) => parser.parse(chunk));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));

  return {
    socket,
    received,
    send: (...packets) => socket.write(Buffer.concat(packets.map((p) => mqttPacket.generate(p)))),
    sendBytes: (bytes) => socket.write(bytes),
    async next(cmd, ms = 3000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = received.find((p) => p.cmd === cmd && !taken.has(p));
        if (found) {
          taken.add(found);
          return found as never;
        }
        if (Date.now() > deadline) throw new Error(`no ${cmd} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 20);
        });
      }
    },
    closed,
    end: () => socket.destroy(),
  };
}

/** A CONNECT as a device sends it (MQTT 3.1.1 unless `protocolVersion` says otherwise). */
export function connectAs(
  clientId: string,
  username: string | undefined,
  password: string | undefined,
  extra: Partial<Extract<Packet, { cmd: "connect" }>> = {},
): Packet {
  return {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password: Buffer.from(password) } : {}),
    ...extra,
  } as Packet;
}
