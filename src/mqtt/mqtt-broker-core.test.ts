/**
 * The broker core under a recording TcpConnection (what the platform hands it, without a
 * socket): what it writes and when it closes, exactly. Protocol behaviour over real sockets is
 * in broker-protocol.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import mqttPacket, { type Packet } from "mqtt-packet";
import { createMemoryLogger } from "../logging/index.ts";
import type { TcpConnection } from "../platform/index.ts";
import type { BrokerHooks } from "./broker-hooks.ts";
import { type BrokerCore, createBrokerCore, MAX_SUBSCRIPTIONS_PER_SESSION } from "./mqtt-broker-core.ts";
import { connectAs } from "./raw-mqtt-peer.ts";

/** Lets every login and message through: the rules are the guard's, tested with it. */
const openHooks: BrokerHooks = {
  authenticate: (_client, _username, _password, done) => done(null, true),
  authorizePublish: (_client, _message, done) => done(null),
  authorizeSubscribe: (_client, subscription, done) => done(null, subscription),
  authorizeForward: (_client, message) => message,
  clientClosed: () => {},
};

const policy = { maxQueuedMessages: 100, remember() {}, forget() {}, droppedQueued() {} };

class RecordingConnection implements TcpConnection {
  readonly remoteAddress = "127.0.0.1";
  readonly writes: Buffer[] = [];
  destroyed = false;
  paused = false;
  /** Bytes the "kernel" takes before a write reports a full socket (until the test drains it). */
  capacity = Number.POSITIVE_INFINITY;
  unsent = 0;
  write(chunk: Uint8Array): boolean {
    this.writes.push(Buffer.from(chunk));
    this.unsent += chunk.length;
    return this.unsent <= this.capacity;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  end() {
    this.destroyed = true;
  }
  destroy() {
    this.destroyed = true;
  }
  /** Every packet written so far, parsed. */
  packets(): Packet[] {
    const parser = mqttPacket.parser();
    const out: Packet[] = [];
    parser.on("packet", (p) => out.push(p));
    parser.parse(Buffer.concat(this.writes));
    return out;
  }
}

const cores: BrokerCore[] = [];
afterEach(() => {
  for (const core of cores.splice(0)) core.close();
});

function core(options: Partial<Parameters<typeof createBrokerCore>[0]> = {}) {
  const c = createBrokerCore({
    hooks: openHooks,
    sessions: policy,
    logger: createMemoryLogger(),
    ...options,
  });
  cores.push(c);
  return c;
}

const bytes = (...packets: Packet[]) => Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

async function connected(c: BrokerCore) {
  const tcp = new RecordingConnection();
  const handlers = c.accept(tcp);
  handlers.onData(bytes(connectAs("dev", "dev", "pw")));
  await settle();
  expect(tcp.packets()).toMatchObject([{ cmd: "connack", returnCode: 0 }]);
  tcp.writes.length = 0;
  return { tcp, handlers };
}

describe("broker core", () => {
  test("the answers to the packets of one chunk go out in one write, in order", async () => {
    const { tcp, handlers } = await connected(core());
    const publishes = [1, 2, 3].map(
      (messageId) =>
        ({
          cmd: "publish",
          topic: "t",
          payload: Buffer.from("x"),
          qos: 1,
          retain: false,
          dup: false,
          messageId,
        }) as Packet,
    );
    handlers.onData(bytes(...publishes, { cmd: "pingreq" }));
    expect(tcp.writes).toHaveLength(1);
    expect(tcp.packets()).toMatchObject([
      { cmd: "puback", messageId: 1 },
      { cmd: "puback", messageId: 2 },
      { cmd: "puback", messageId: 3 },
      { cmd: "pingresp" },
    ]);
  });

  test("the connection is paused while its credential is checked, and resumed after CONNACK", async () => {
    let finish!: () => void;
    const c = core({
      hooks: {
        ...openHooks,
        authenticate: (_c, _u, _p, done) => {
          finish = () => done(null, true);
        },
      },
    });
    const tcp = new RecordingConnection();
    c.accept(tcp).onData(bytes(connectAs("dev", "dev", "pw")));
    expect(tcp.paused).toBe(true);
    finish();
    await settle();
    expect(tcp.paused).toBe(false);
    expect(c.connectedClients).toBe(1);
  });

  test("a connection that sends no CONNECT is closed after the connect timeout", async () => {
    const c = core({ connectTimeoutMs: 50 });
    const tcp = new RecordingConnection();
    c.accept(tcp);
    const deadline = Date.now() + 3000;
    while (!tcp.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(tcp.destroyed).toBe(true);
  });

  test("fuzz: any bytes after CONNECT, in any chunks, never throw; the core serves the next client", async () => {
    const c = core();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 }), async (chunks) => {
        const { handlers } = await connected(c);
        for (const chunk of chunks) handlers.onData(Buffer.from(chunk));
        handlers.onClose();
      }),
      { numRuns: 150 },
    );
    const { tcp, handlers } = await connected(c);
    handlers.onData(bytes({ cmd: "pingreq" }));
    expect(tcp.packets()).toMatchObject([{ cmd: "pingresp" }]);
    expect(c.connectedClients).toBe(1);
  });

  test("a session holds at most 256 filters: more are refused (0x80), one it holds may be renewed", async () => {
    const { tcp, handlers } = await connected(core());
    const filters = Array.from({ length: MAX_SUBSCRIPTIONS_PER_SESSION + 1 }, (_, i) => ({
      topic: `f/${i}`,
      qos: 1 as const,
    }));
    handlers.onData(bytes({ cmd: "subscribe", messageId: 1, subscriptions: filters }));
    handlers.onData(bytes({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: "f/0", qos: 0 }] }));
    const [first, second] = tcp.packets() as Array<{ granted: number[] }>;
    expect(first!.granted.filter((g) => g === 1)).toHaveLength(MAX_SUBSCRIPTIONS_PER_SESSION);
    expect(first!.granted.at(-1)).toBe(0x80);
    expect(second!.granted).toEqual([0]);
  });

  test("8 MB of retained messages reach a subscriber as it reads them, not past the write backlog", async () => {
    const c = core();
    const payload = Buffer.alloc(40 * 1024, "r");
    for (let i = 0; i < 200; i++)
      c.publish({ topic: `homeassistant/sensor/d${i}/config`, payload, qos: 1, retain: true });
    const { tcp, handlers } = await connected(c);
    tcp.capacity = 256 * 1024; // a LAN socket's buffers, then the subscriber reads at its pace
    handlers.onData(
      bytes({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "homeassistant/#", qos: 1 }] }),
    );
    for (let turn = 0; turn < 2000 && !tcp.destroyed; turn++) {
      const retainedSoFar = tcp.packets().filter((p) => p.cmd === "publish").length;
      if (retainedSoFar === 200) break;
      tcp.unsent = 0;
      handlers.onDrain();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(tcp.destroyed).toBe(false);
    const publishes = tcp.packets().filter((p) => p.cmd === "publish") as Array<{
      topic: string;
      retain: boolean;
    }>;
    expect(publishes.map((p) => p.topic)).toEqual(
      Array.from({ length: 200 }, (_, i) => `homeassistant/sensor/d${i}/config`),
    );
    expect(publishes.every((p) => p.retain)).toBe(true);
  });

  test("stop: every connection is closed and no last will is sent", async () => {
    const c = core();
    const seen: string[] = [];
    c.subscribe("#", (message) => seen.push(message.topic));
    const tcp = new RecordingConnection();
    c.accept(tcp).onData(
      bytes(
        connectAs("dev", "dev", "pw", {
          will: { topic: "will", payload: Buffer.from("gone"), qos: 1, retain: false },
        }),
      ),
    );
    await settle();
    c.close();
    expect(tcp.destroyed).toBe(true);
    expect(seen).toEqual([]);
    expect(c.connectedClients).toBe(0);
  });
});
