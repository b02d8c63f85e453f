#!/usr/bin/env bun
/**
 * The baseline for bench/fanout.ts: Bun's own topic publish to every socket, with nothing of
 * the station in between. Listens on 127.0.0.1, port 0, and prints `… listening on port N`.
 *
 * A WebSocket is subscribed to `devices` when it opens and greeted like the station greets an
 * app, and a `subscribe` request is answered with a result, so the bench's clients run the
 * same code against both servers. `GET /start?seconds=S&intervalMs=I` starts a run: every I ms
 * for S seconds, `server.publish("devices", …)` of a `device.state` push shaped (and sized)
 * like the station's. `GET /stats` → `{clients, running, published}`.
 * Exits when its stdin closes (the bench died) or on SIGTERM.
 */
import type { Server } from "bun";

const TOPIC = "devices";
// Station pushes carry a subscription id (a UUID) and the device id; these have the same length.
const SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000000";
const DEVICE_ID = "dev_00000000000000000000";

/**
 * Calls `tick(seq)` for seq 1…count at `start + (seq-1)·intervalMs`, catching up after a late
 * timer instead of drifting (a plain setInterval in Bun fires every ~11-12 ms when asked for 10).
 * Resolves after the last tick. Shared with the station's /ws/iot device in bench/fanout.ts.
 */
export function paced(count: number, intervalMs: number, tick: (seq: number) => void): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    let seq = 0;
    const step = () => {
      const due = Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (seq < due) tick(++seq);
      if (seq >= count) return resolve();
      setTimeout(step, Math.max(0, start + seq * intervalMs - performance.now()));
    };
    step();
  });
}

function serveRawFanout() {
  let clients = 0;
  let running = false;
  let published = 0;

  const publishRun = (server: Server<undefined>, seconds: number, intervalMs: number) => {
    running = true;
    published = 0;
    void paced(Math.round((seconds * 1000) / intervalMs), intervalMs, (seq) => {
      published = seq;
      const sentAt = Date.now();
      server.publish(
        TOPIC,
        `{"type":"push","channel":"devices","event":"device.state","subscriptionId":"${SUBSCRIPTION_ID}",` +
          `"data":{"deviceId":"${DEVICE_ID}","state":{"seq":${seq},"sentAt":${sentAt}},"at":${sentAt}}}`,
      );
    }).then(() => {
      running = false;
    });
  };

  const server = Bun.serve<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(request, srv) {
      const url = new URL(request.url);
      if (url.pathname === "/start") {
        if (running) return Response.json({ error: "already running" }, { status: 409 });
        const seconds = Number(url.searchParams.get("seconds") ?? "10");
        const intervalMs = Number(url.searchParams.get("intervalMs") ?? "10");
        publishRun(srv, seconds, intervalMs);
        return Response.json({ clients });
      }
      if (url.pathname === "/stats") return Response.json({ clients, running, published });
      if (srv.upgrade(request, { data: undefined })) return undefined;
      return new Response("expected a WebSocket upgrade, /start or /stats", { status: 400 });
    },
    websocket: {
      idleTimeout: 0,
      sendPings: false,
      open(ws) {
        clients++;
        ws.subscribe(TOPIC);
        ws.send('{"type":"welcome","protocol":"opengenie.v1"}');
      },
      message(ws, message) {
        const id = /"id":"([^"]*)"/.exec(String(message))?.[1] ?? "";
        ws.send(JSON.stringify({ id, type: "result", data: { subscriptionId: SUBSCRIPTION_ID } }));
      },
      close() {
        clients--;
      },
    },
  });

  process.stdout.write(`raw fanout server listening on port ${server.port}\n`);
  const exit = () => process.exit(0);
  process.stdin.on("end", exit);
  process.stdin.on("close", exit);
  process.stdin.resume();
  process.on("SIGTERM", exit);
}

if (import.meta.main) serveRawFanout();
