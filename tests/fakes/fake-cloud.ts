/**
 * A fake cloud relay (CONTRACT.md section 7) on a real WebSocket server at 127.0.0.1: it
 * claims stations, checks `station_auth`, calls the station's JSON-RPC methods and sends
 * identity messages, all driven by a test. Run it by hand to try the link:
 *
 *   bun tests/fakes/fake-cloud.ts --port 8787
 *
 * then start a station with the environment it prints, and type JSON lines to send them.
 */
import { randomBytes } from "node:crypto";
import type { ServerWebSocket } from "bun";

export interface FakeCloudOptions {
  port?: number;
  /** The claim secret it accepts; any secret when unset. */
  claimSecret?: string;
  /** The token it hands out on the next claim. */
  issueToken?: string;
  /** Tokens `station_auth` succeeds with; those it issued are added. */
  acceptTokens?: string[];
  /** Serve `wss://` with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Answers every handshake message with this text instead (a misbehaving relay). */
  handshakeReply?: (message: Record<string, unknown>) => string;
}

export interface CloudConnection {
  id: number;
  /** Every message the station sent, parsed, in order. */
  received: Record<string, unknown>[];
  /** The JSON-RPC calls the test made on this connection. */
  calls: { id: number; method: string }[];
  authenticated: boolean;
  closed: boolean;
  ws: ServerWebSocket<{ id: number }>;
}

type RpcAnswer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

export async function startFakeCloud(options: FakeCloudOptions = {}) {
  const accepted = new Set(options.acceptTokens ?? []);
  let issueToken = options.issueToken;
  const connections: CloudConnection[] = [];
  const pending = new Map<number, (answer: RpcAnswer) => void>();
  const listeners = new Set<() => void>();
  let nextConnection = 1;
  let nextCall = 1;
  let refuseAuth: string | undefined;
  const changed = () => {
    for (const l of [...listeners]) l();
  };

  function onMessage(conn: CloudConnection, text: string) {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    conn.received.push(msg);
    const send = (m: object) => conn.ws.send(JSON.stringify(m));
    if (options.handshakeReply && (msg.type === "claim_handshake" || msg.type === "station_auth")) {
      conn.ws.send(options.handshakeReply(msg));
    } else if (msg.type === "claim_handshake") {
      if (options.claimSecret !== undefined && msg.claimSecret !== options.claimSecret) {
        send({ type: "auth_error", message: "wrong claim secret" });
      } else {
        const token = issueToken ?? randomBytes(24).toString("hex");
        issueToken = undefined;
        accepted.add(token);
        send({ type: "claim_success", stationToken: token });
      }
    } else if (msg.type === "station_auth") {
      if (refuseAuth === undefined && accepted.has(String(msg.stationToken))) {
        conn.authenticated = true;
        send({ type: "auth_ok" });
      } else send({ type: "auth_error", message: refuseAuth ?? "unknown station token" });
    } else if ("id" in msg && ("result" in msg || "error" in msg)) {
      pending.get(msg.id as number)?.(msg as RpcAnswer);
      pending.delete(msg.id as number);
    } else if (typeof msg.method === "string" && "id" in msg && conn.authenticated) {
      // A request from the station (its station.ping where there are no ping frames): this
      // relay serves no methods, so it answers as JSON-RPC 2.0 requires, with -32601.
      send({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
    }
    changed();
  }

  const server = Bun.serve<{ id: number }>({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    ...(options.tls ? { tls: options.tls } : {}),
    fetch(request, srv) {
      if (new URL(request.url).pathname !== "/ws/station") return new Response("not found", { status: 404 });
      return srv.upgrade(request, { data: { id: nextConnection++ } })
        ? undefined
        : new Response("upgrade expected", { status: 400 });
    },
    websocket: {
      open(ws) {
        connections.push({
          id: ws.data.id,
          received: [],
          calls: [],
          authenticated: false,
          closed: false,
          ws,
        });
        changed();
      },
      message(ws, message) {
        const conn = connections.find((c) => c.id === ws.data.id);
        if (conn) onMessage(conn, String(message));
      },
      close(ws) {
        const conn = connections.find((c) => c.id === ws.data.id);
        if (conn) conn.closed = true;
        changed();
      },
    },
  });

  /** Resolves once `check` holds, re-checked on every cloud event (no polling, no sleeping). */
  function until<T>(check: () => T | undefined, timeoutMs = 10_000, what = "the fake cloud"): Promise<T> {
    return new Promise((resolve, reject) => {
      const tryIt = () => {
        const value = check();
        if (value === undefined) return false;
        listeners.delete(tryIt);
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(tryIt);
        reject(new Error(`${what}: not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!tryIt()) listeners.add(tryIt);
    });
  }

  const live = () => connections.find((c) => c.authenticated && !c.closed);

  return {
    url: `${options.tls ? "wss" : "ws"}://127.0.0.1:${server.port}/ws/station`,
    port: server.port,
    connections,
    accepted,
    /** From now on every `station_auth` is answered with `auth_error` carrying `message` (undefined: normal). */
    refuseAuth(message: string | undefined) {
      refuseAuth = message;
    },
    until,
    /** The authenticated connection, waiting for one. */
    station(timeoutMs = 10_000): Promise<CloudConnection> {
      return until(live, timeoutMs, "an authenticated station");
    },
    /** Calls a station method on the live connection and resolves with its answer. */
    async call(method: string, params?: unknown, timeoutMs = 20_000): Promise<RpcAnswer> {
      const conn = await until(live, timeoutMs, "an authenticated station");
      const id = nextCall++;
      const answer = new Promise<RpcAnswer>((resolve) => pending.set(id, resolve));
      conn.calls.push({ id, method });
      conn.ws.send(
        JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }),
      );
      return answer;
    },
    /** Sends any message (a plain identity message, or raw text) to the live connection. */
    async send(message: object | string) {
      const conn = await until(live, 10_000, "an authenticated station");
      conn.ws.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    /** Notifications (requests without an id) the station sent on any connection. */
    notifications(): { method: string; params: unknown }[] {
      return connections.flatMap((c) =>
        c.received.filter((m) => typeof m.method === "string" && !("id" in m)),
      ) as { method: string; params: unknown }[];
    },
    /** Drops every connection without a closing handshake, as a crashed relay would. */
    dropAll() {
      for (const c of connections) if (!c.closed) c.ws.terminate();
    },
    async stop() {
      await server.stop(true);
    },
  };
}

export type FakeCloud = Awaited<ReturnType<typeof startFakeCloud>>;

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const claimSecret = flag("claim-secret") ?? "try-me";
  const cloud = await startFakeCloud({ port: Number(flag("port") ?? 8787), claimSecret });
  process.stdout.write(
    `fake cloud listening on ${cloud.url}\n\nPoint a station at it:\n` +
      `  OPENGENIE_CLOUD_URL=${cloud.url} OPENGENIE_CLOUD_CLAIM_SECRET=${claimSecret} bun bin/opengenie.ts serve\n\n` +
      `Then type one JSON message per line to send it to the station, e.g.\n` +
      `  {"jsonrpc":"2.0","id":1,"method":"devices.snapshot"}\n` +
      `  {"jsonrpc":"2.0","id":2,"method":"station.setActiveChannels","params":{"channels":["device.state"]}}\n` +
      `  {"type":"station_renamed","name":"Cabin"}\n` +
      `Everything the station sends is printed.\n`,
  );
  let shown = 0;
  const show = () => {
    const all = cloud.connections.flatMap((c) => c.received);
    for (; shown < all.length; shown++) {
      const m = { ...all[shown] };
      if (typeof m.stationToken === "string") m.stationToken = "<hidden>";
      process.stdout.write(`< ${JSON.stringify(m)}\n`);
    }
    return undefined;
  };
  void cloud.until(show, 2 ** 31 - 1).catch(() => undefined);
  for await (const line of console) {
    if (line.trim() === "") continue;
    await cloud.send(line).catch((err) => process.stdout.write(`not sent: ${(err as Error).message}\n`));
  }
}
