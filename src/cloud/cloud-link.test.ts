import { expect, test } from "bun:test";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { waitFor } from "../../tests/helpers/wait-for.ts";
import { createManualClock, createSystemClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform, type OutboundSocket, type OutboundSocketHandlers } from "../platform/index.ts";
import { createCloudLink } from "./cloud-link.ts";

/**
 * The platform's outbound-socket port driven by hand: the one thing a real relay cannot be made
 * to do on demand is swallow pings, which is what this test needs (the fake cloud in tests/
 * covers everything else over a real socket).
 */
function scriptedCloud(options: { pingFrames: boolean } = { pingFrames: true }) {
  const sockets: { handlers: OutboundSocketHandlers; sent: string[]; pings: number; closed?: number }[] = [];
  const connect = (
    _url: string,
    _options: { ca?: string },
    handlers: OutboundSocketHandlers,
  ): OutboundSocket => {
    const entry = { handlers, sent: [] as string[], pings: 0, closed: undefined as number | undefined };
    sockets.push(entry);
    queueMicrotask(() => handlers.open());
    return {
      send: (t) => entry.sent.push(t),
      // Deno's client has no ping frames: its socket has no ping().
      ...(options.pingFrames ? { ping: () => entry.pings++ } : {}),
      bufferedAmount: 0,
      close: (code = 1000, reason = "") => {
        if (entry.closed !== undefined) return;
        entry.closed = code;
        handlers.close(code, reason);
      },
    };
  };
  return { sockets, connect };
}

test("ping every 30 s; a missing pong ends the connection and the link reconnects", async () => {
  const clock = createManualClock();
  const cloud = scriptedCloud();
  const link = createCloudLink({
    url: "wss://cloud.example/ws/station",
    chipId: () => "chip",
    tokens: { read: async () => "token-for-tests-0123456789", store: async () => undefined },
    connect: cloud.connect,
    clock,
    logger: createMemoryLogger(),
    random: () => 0.5,
    onAuthenticated: () => undefined,
    onPlainMessage: () => undefined,
  });
  link.start();
  await Bun.sleep(0);
  await Bun.sleep(0);
  const first = cloud.sockets[0]!;
  expect(first.sent.map((t) => JSON.parse(t).type)).toEqual(["station_auth"]);
  first.handlers.message('{"type":"auth_ok"}');
  await Bun.sleep(0);
  expect(link.status().connected).toBe(true);

  clock.advance(30_000);
  expect(first.pings).toBe(1);
  first.handlers.pong();
  clock.advance(30_000);
  expect(first.pings).toBe(2);
  expect(first.closed).toBeUndefined();
  // No pong this time: the next tick gives up on the connection.
  clock.advance(30_000);
  expect(first.closed).toBe(4000);
  expect(link.status()).toMatchObject({ connected: false, lastError: "no pong from the cloud" });
  clock.advance(1999);
  expect(cloud.sockets).toHaveLength(1);
  clock.advance(1);
  await Bun.sleep(0);
  await Bun.sleep(0);
  expect(cloud.sockets).toHaveLength(2);
  link.stop();
});

test("a relay that accepts TCP but never completes the upgrade is given up on and retried", async () => {
  // A real socket that says nothing: before, the link waited on it forever (the liveness timer
  // was only armed once the upgrade had opened), so the station never retried.
  const accepted: Socket[] = [];
  const silent = createServer((conn) => accepted.push(conn));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const { port } = silent.address() as AddressInfo;
  const logger = createMemoryLogger();
  const link = createCloudLink({
    url: `ws://127.0.0.1:${port}/ws/station`,
    chipId: () => "chip",
    tokens: { read: async () => "token-for-tests-0123456789", store: async () => undefined },
    connect: createBunPlatform().connectWebSocket,
    clock: createSystemClock(),
    logger,
    pingIntervalMs: 200,
    random: () => 0, // the shortest retry, 1.6 s
    onAuthenticated: () => undefined,
    onPlainMessage: () => undefined,
  });
  try {
    link.start();
    await waitFor(() => link.counters().reconnects >= 1, 5000, "the link to give up on the silent relay");
    expect(link.status()).toMatchObject({
      connected: false,
      lastError: "the cloud did not accept the connection in time",
    });
    await waitFor(() => accepted.length >= 2, 5000, "a second attempt");
  } finally {
    link.stop();
    for (const c of accepted) c.destroy();
    silent.close();
  }
});

test("a URL the client refuses to dial is reported in the status and retried, not thrown", async () => {
  const clock = createManualClock();
  const link = createCloudLink({
    url: "ws://127.0.0.1:99999/ws/station", // passes the config's pattern; Bun's client throws on it
    chipId: () => "chip",
    tokens: { read: async () => "token-for-tests-0123456789", store: async () => undefined },
    connect: createBunPlatform().connectWebSocket,
    clock,
    logger: createMemoryLogger(),
    random: () => 0.5,
    onAuthenticated: () => undefined,
    onPlainMessage: () => undefined,
  });
  try {
    link.start();
    await waitFor(() => link.counters().reconnects === 1, 2000, "a retry to be scheduled");
    expect(link.status().lastError).toStartWith("cannot connect to ws://127.0.0.1:99999/ws/station");
    clock.advance(2000);
    await waitFor(() => link.counters().reconnects === 2, 2000, "a second attempt");
  } finally {
    link.stop();
  }
});

test("without ping frames (Deno): station.ping every 30 s, any answer keeps the link, none ends it", async () => {
  const clock = createManualClock();
  const cloud = scriptedCloud({ pingFrames: false });
  const link = createCloudLink({
    url: "wss://cloud.example/ws/station",
    chipId: () => "chip",
    tokens: { read: async () => "token-for-tests-0123456789", store: async () => undefined },
    connect: cloud.connect,
    clock,
    logger: createMemoryLogger(),
    random: () => 0.5,
    onAuthenticated: () => undefined,
    onPlainMessage: () => undefined,
  });
  link.start();
  await Bun.sleep(0);
  await Bun.sleep(0);
  const first = cloud.sockets[0]!;
  first.handlers.message('{"type":"auth_ok"}');
  await Bun.sleep(0);
  const probes = () => first.sent.map((t) => JSON.parse(t)).filter((m) => m.method === "station.ping");

  clock.advance(30_000);
  expect(probes()).toEqual([{ jsonrpc: "2.0", id: 1, method: "station.ping" }]);
  // A relay that does not know the method still answers (JSON-RPC 2.0): alive.
  first.handlers.message('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}');
  await Bun.sleep(0);
  clock.advance(30_000);
  expect(first.closed).toBeUndefined();
  expect(probes()).toHaveLength(2);
  first.handlers.message('{"jsonrpc":"2.0","id":2,"result":null}');
  await Bun.sleep(0);
  clock.advance(30_000);
  expect(first.closed).toBeUndefined();
  expect(probes()).toHaveLength(3);
  // No answer this time: the next tick gives up on the connection and the link reconnects.
  await Bun.sleep(0);
  clock.advance(30_000);
  expect(first.closed).toBe(4000);
  expect(link.status()).toMatchObject({
    connected: false,
    lastError: "no answer to station.ping from the cloud",
  });
  expect(first.pings).toBe(0);
  clock.advance(2000);
  await Bun.sleep(0);
  await Bun.sleep(0);
  expect(cloud.sockets).toHaveLength(2);
  link.stop();
});
