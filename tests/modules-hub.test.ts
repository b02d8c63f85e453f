/**
 * `/ws/modules` with the published `@proj-airi/server-sdk` 0.8.4 client, unchanged
 * (CONTRACT.md section 4, issue 12): several modules authenticate, announce, see each other in
 * the registry and route events by name, label and broadcast; unauthenticated sockets get
 * nothing; a wrong token causes no storm; the policy silences a denied plugin; `ui:configure`
 * reaches its module; and the station, as module `opengenie`, tells modules of device changes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { addDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { joinModule, type ModuleTestClient } from "./helpers/module-client.ts";
import {
  type JsonFrame,
  type JsonSocket,
  openJsonSocket as openSocket,
} from "./helpers/module-json-socket.ts";
import {
  bunOnly,
  CLOCK_ONLY_IN_PROCESS,
  describeBunOnly,
  onDeno,
  STATION_OBJECT_ONLY_IN_PROCESS,
} from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";
import { openSocket as openIotSocket } from "./helpers/ws-client.ts";

const TOKEN = "module-token-for-tests";
const clients: ModuleTestClient[] = [];
const sims: SimulatedDevice[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const sim of sims.splice(0)) await sim.stop({ graceful: false }).catch(() => {});
});

async function join(s: TestStation, name: string, options: Partial<Parameters<typeof joinModule>[1]> = {}) {
  const client = await joinModule(`${s.wsUrl}/ws/modules`, { name, token: TOKEN, ...options });
  clients.push(client);
  return client;
}

/** The socket's close code, or 0 when it is still open after 5 s. */
const closeCode = async (socket: JsonSocket) =>
  (await Promise.race([socket.closed, Bun.sleep(5000).then(() => ({ code: 0 }))])).code;

const of = (type: string) => (e: { type: string }) => e.type === type;

async function moduleConnections(s: TestStation, admin: string) {
  const res = await s.api("/api/connections", { token: admin });
  expect(res.status).toBe(200);
  return ((await res.json()) as { modules: { principal?: string; messagesIn: number }[] }).modules;
}

describe("with AUTHENTICATION_TOKEN set", () => {
  let s: TestStation;
  let admin: string;
  beforeAll(async () => {
    s = await startTestStation({ env: { AUTHENTICATION_TOKEN: TOKEN } });
    admin = await s.userToken("hub-admin", "admin");
  });
  afterAll(() => s.stop());

  test("modules authenticate, announce and appear in each other's registry sync", async () => {
    const a = await join(s, "assistant", { identity: { plugin: "llm", instanceId: "llm-1" } });
    const b = await join(s, "lights");
    const c = await join(s, "ui");
    for (const m of [a, b, c]) {
      await m.waitFor(
        () => m.registryNames().join() === "assistant,lights,opengenie,ui",
        5000,
        "the full registry",
      );
      expect(m.received.find(of("module:authenticated"))?.data).toEqual({ authenticated: true });
    }
    // Those already there heard each later module announce itself.
    const announced = await a.waitFor((e) => e.type === "module:announced" && e.data.name === "ui");
    expect(announced.data).toMatchObject({ name: "ui", identity: { plugin: "ui" } });
    const sync = a.received.findLast(of("registry:modules:sync"))!;
    expect(sync.data.modules).toContainEqual({
      name: "assistant",
      identity: { plugin: "llm", instanceId: "llm-1" },
    });

    // A module that leaves is de-announced, and the registry re-sent without it.
    c.close();
    await a.waitFor((e) => e.type === "module:de-announced" && e.data.name === "ui");
    await a.waitFor(
      () => a.registryNames().join() === "assistant,lights,opengenie",
      5000,
      "the registry without ui",
    );

    const listed = await moduleConnections(s, admin);
    expect(listed.map((m) => m.principal).sort()).toEqual(["assistant", "lights"]);
    expect(await readMetric(s, "opengenie_module_connections", { authenticated: "true" })).toBe(2);
    expect(await readMetric(s, "opengenie_modules_announced")).toBe(3);
  });

  test("an event reaches one destination by name, or the modules with a label", async () => {
    const a = await join(s, "assistant");
    const kitchen = await join(s, "kitchen-lights", {
      identity: { plugin: "automation", instanceId: "k-1", labels: { room: "kitchen" } },
    });
    const hall = await join(s, "hall-lights", {
      identity: { plugin: "automation", instanceId: "h-1", labels: { room: "hall" } },
    });
    a.send({
      type: "assistant:say",
      data: { text: "to kitchen by name" },
      route: { destinations: ["kitchen-lights"] },
    });
    a.send({
      type: "assistant:say",
      data: { text: "to hall by label" },
      route: { destinations: ["label:room=hall"] },
    });
    a.send({
      type: "assistant:say",
      data: { text: "by data.destinations", destinations: ["plugin:automation"] },
    });
    await a.roundTrip();
    for (const m of [kitchen, hall]) await m.roundTrip();
    const texts = (m: ModuleTestClient) => m.received.filter(of("assistant:say")).map((e) => e.data.text);
    expect(texts(kitchen)).toEqual(["to kitchen by name", "by data.destinations"]);
    expect(texts(hall)).toEqual(["to hall by label", "by data.destinations"]);
    // Never back to the sender.
    expect(texts(a)).toEqual([]);
    // Forwarded as the sender wrote it, metadata included.
    const said = kitchen.received.find(of("assistant:say"))!;
    expect(said.metadata?.source).toMatchObject({ plugin: "assistant" });
  });

  test("a broadcast reaches every authenticated module and never an unauthenticated one", async () => {
    const a = await join(s, "assistant");
    const b = await join(s, "lights");
    const stranger = await join(s, "stranger", { token: "wrong-token", waitUntilAnnounced: false });
    await stranger.waitFor((e) => e.type === "error" && e.data.message === "invalid token");
    stranger.mark();

    a.send({ type: "assistant:announcement", data: { text: "dinner is ready" } });
    await b.waitFor(of("assistant:announcement"));
    // The hub wrote the broadcast everywhere before it handled the stranger's later ping.
    await stranger.roundTrip();
    expect(stranger.since().map((e) => e.type)).toEqual(["transport:connection:heartbeat"]);
    // What the stranger sends is routed to no one either; it is told once why.
    b.mark();
    stranger.send({ type: "stranger:hello", data: {} });
    stranger.send({ type: "stranger:hello", data: {} });
    await stranger.roundTrip();
    await b.roundTrip();
    expect(b.since().filter(of("stranger:hello"))).toEqual([]);
    const notices = stranger.received.filter((e) => e.type === "error" && e.data.message !== "invalid token");
    expect(notices.map((e) => e.data.message)).toEqual([
      "not authenticated: send module:authenticate with the hub's token first",
    ]);
    // The notice is not the text the 0.8.4 client reconnects on: it is still the one socket.
    expect(await readMetric(s, "opengenie_module_connections", { authenticated: "false" })).toBe(1);
  });

  test("a wrong token is refused once, without a storm; a right one connects once", async () => {
    const openedBefore = await readMetric(s, "opengenie_module_connections_opened_total");
    const good = await join(s, "steady");
    const bad = await join(s, "locked-out", { token: "not-the-token", waitUntilAnnounced: false });
    // Two seconds of whatever the published client does next (issue 12: a handful, not thousands).
    await Bun.sleep(2000);
    const connections = await moduleConnections(s, admin);
    const fromBad = connections.filter((c) => c.principal === undefined);
    const fromGood = connections.filter((c) => c.principal === "steady");
    expect(fromBad.length).toBe(1);
    expect(fromBad[0]!.messagesIn).toBeLessThanOrEqual(5);
    expect(fromGood.length).toBe(1);
    expect(fromGood[0]!.messagesIn).toBeLessThanOrEqual(5);
    expect(await readMetric(s, "opengenie_module_connections_opened_total")).toBe(openedBefore + 2);
    expect(bad.received.filter(of("error")).map((e) => e.data.message)).toEqual(["invalid token"]);
    expect(bad.received.filter(of("module:authenticated"))).toEqual([]);
    // The pre-auth heartbeat was answered with a pong, not an error.
    expect(bad.received.filter(of("transport:connection:heartbeat")).length).toBeGreaterThanOrEqual(1);
    expect(good.registryNames()).toContain("steady");
  });

  test("ui:configure reaches the named module as module:configure, and an unknown name is an error", async () => {
    const ui = await join(s, "stage-ui");
    const speaker = await join(s, "speaker");
    ui.send({ type: "ui:configure", data: { moduleName: "speaker", config: { volume: 3, voice: "calm" } } });
    const configure = await speaker.waitFor(of("module:configure"));
    expect(configure.data).toEqual({ config: { volume: 3, voice: "calm" } });
    ui.send({ type: "ui:configure", data: { moduleName: "nobody", config: {} } });
    const error = await ui.waitFor(of("error"));
    expect(error.data.message).toContain("module not found");
  });

  test("a module hears a firmware-sim device's state change from the station's module", async () => {
    const assistant = await join(s, "assistant");
    const { device, credentials } = await addDevice(s, admin, "Kitchen light", "light");
    const sim = simFor(credentials, "light");
    sims.push(sim);
    await sim.start();
    await assistant.waitFor(
      (e) => e.type === "device.status" && e.data.deviceId === device.id && e.data.online === true,
    );
    await sim.publishState({ power: "on", brightness: 40 });
    const state = await assistant.waitFor(
      (e) =>
        e.type === "device.state" &&
        e.data.deviceId === device.id &&
        (e.data.state as { power?: string }).power === "on",
    );
    expect(state.data.state).toMatchObject({ power: "on", brightness: 40 });
    expect(state.metadata?.source).toMatchObject({ plugin: "opengenie", instanceId: s.config.stationId });
  });

  test("device commands from modules are off by default: answered with a refusal, and nothing reaches the device", async () => {
    const assistant = await join(s, "assistant");
    const { device, credentials } = await addDevice(s, admin, "Hall light", "light");
    const sim = simFor(credentials, "light");
    sims.push(sim);
    await sim.start();
    assistant.send({
      type: "opengenie:device.command",
      data: { deviceId: device.id, action: "turn_on" },
      route: { destinations: ["opengenie"] },
    });
    const result = await assistant.waitFor(of("opengenie:device.command.result"));
    expect(result.data).toMatchObject({
      deviceId: device.id,
      action: "turn_on",
      ok: false,
      error: { code: "FORBIDDEN" },
    });
    expect(sim.received).toEqual([]);
    expect(s.logger.lines.some((l) => l.includes("module device command refused"))).toBe(true);
  });

  test("a plain JSON peer is accepted and answered in plain JSON; superjson peers still get superjson", async () => {
    const assistant = await join(s, "assistant");
    const peer = await openSocket(`${s.wsUrl}/ws/modules`);
    try {
      peer.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
      expect(await peer.next()).toMatchObject({
        type: "module:authenticated",
        data: { authenticated: true },
      });
      peer.ws.send(
        JSON.stringify({
          type: "module:announce",
          data: { name: "json-peer", identity: { kind: "plugin", id: "jp-1", plugin: { id: "json-peer" } } },
        }),
      );
      await assistant.waitFor((e) => e.type === "module:announced" && e.data.name === "json-peer");
      // The newer identity shape is in the registry as announced.
      await assistant.waitFor(
        () => assistant.registryNames().includes("json-peer"),
        5000,
        "json-peer in the registry",
      );
      peer.ws.send(
        JSON.stringify({ type: "json:hello", data: { at: 1 }, route: { destinations: ["assistant"] } }),
      );
      // The 0.8.4 client reads only superjson: that it hands the event over proves the re-encoding.
      expect((await assistant.waitFor(of("json:hello"))).data).toEqual({ at: 1 });
      assistant.send({
        type: "assistant:reply",
        data: { when: "now" },
        route: { destinations: ["json-peer"] },
      });
      expect(await peer.waitFor((f) => f.type === "assistant:reply")).toMatchObject({
        data: { when: "now" },
      });
    } finally {
      peer.close();
    }
  });

  test("extension:module:announce is answered with extension:module:announced; others hear module:announced", async () => {
    const assistant = await join(s, "assistant");
    const peer = await openSocket(`${s.wsUrl}/ws/modules`);
    try {
      peer.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
      await peer.waitFor((f) => f.type === "module:authenticated");
      const identity = { id: "chess-1", extension: { id: "airi-extension-chess" } };
      peer.ws.send(JSON.stringify({ type: "extension:module:announce", data: { name: "chess", identity } }));
      expect(await peer.waitFor((f) => f.type === "extension:module:announced")).toMatchObject({
        data: { name: "chess", identity },
      });
      const heard = await assistant.waitFor((e) => e.type === "module:announced" && e.data.name === "chess");
      expect(heard.data.identity).toEqual(identity);
    } finally {
      peer.close();
    }
  });

  test("the name and plugin opengenie belong to the station", async () => {
    const impostor = await join(s, "opengenie", { waitUntilAnnounced: false });
    const refused = await impostor.waitFor(of("error"));
    expect(refused.data.message).toBe('the module name and plugin "opengenie" belong to the station');
    expect(impostor.registryNames()).toEqual(["opengenie"]);
  });

  test("a module cannot forge the hub's own events: a fake device.state or registry reaches no one", async () => {
    const forger = await join(s, "forger");
    const victim = await join(s, "victim");
    victim.mark();
    forger.send({ type: "device.state", data: { deviceId: "dev_fake", state: { door: "open" }, at: 1 } });
    forger.send({ type: "registry:modules:sync", data: { modules: [] } });
    const refused = await forger.waitFor(
      (e) => e.type === "error" && String(e.data.message).startsWith("registry:modules:sync"),
    );
    expect(refused.data.message).toBe("registry:modules:sync is sent by the hub, not by modules");
    await victim.roundTrip();
    expect(victim.since().map((e) => e.type)).toEqual(["transport:connection:heartbeat"]);
  });

  test("re-announcing is limited: each announce re-sends the registry to everyone", async () => {
    const watcher = await join(s, "watcher");
    const peer = await openSocket(`${s.wsUrl}/ws/modules`);
    try {
      peer.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
      for (let i = 0; i < 8; i++) {
        const identity = { plugin: "flapper", instanceId: `f-${i}` };
        peer.ws.send(JSON.stringify({ type: "module:announce", data: { name: `flapper-${i}`, identity } }));
      }
      await peer.waitFor(
        (f) =>
          f.type === "error" && (f.data as { message: string }).message.startsWith("announcing too often"),
      );
      await watcher.roundTrip();
      // The first five went through (a burst of 5, then one a second); the registry shows the last of them.
      await watcher.waitFor(
        () => watcher.registryNames().includes("flapper-4"),
        5000,
        "flapper-4 in the registry",
      );
      expect(
        watcher.received.filter(
          (e) => e.type === "module:announced" && String(e.data.name).startsWith("flapper"),
        ).length,
      ).toBe(5);
      expect(watcher.registryNames().filter((n) => n.startsWith("flapper"))).toEqual(["flapper-4"]);
    } finally {
      peer.close();
    }
  });

  test("hardening: a frame over 64 KiB closes with 1009; a burst past the rate limit is dropped, said once", async () => {
    const big = await openSocket(`${s.wsUrl}/ws/modules`);
    big.ws.send(JSON.stringify({ type: "big:blob", data: { blob: "x".repeat(70 * 1024) } }));
    expect((await big.closed).code).toBe(1009);

    const burst = await openSocket(`${s.wsUrl}/ws/modules`);
    try {
      const ping = JSON.stringify({ type: "transport:connection:heartbeat", data: { kind: "ping" } });
      for (let i = 0; i < 600; i++) burst.ws.send(ping);
      await burst.waitFor(
        (f) =>
          f.type === "error" && String((f.data as { message: string }).message).startsWith("rate limited"),
      );
      await waitFor(
        async () => (await readMetric(s, "opengenie_module_frames_dropped_total", { reason: "rate" })) > 0,
      );
      const pongs = () =>
        burst.frames.filter((f) => (f as { type: string }).type === "transport:connection:heartbeat").length;
      expect(pongs()).toBeLessThan(600);
      // Once per streak of drops. Deno hands the station the 600 frames over more than one
      // refill of the budget, so a frame may pass mid-burst and a new streak begin (2 measured).
      const notices = burst.frames.filter((f) => (f as { type: string }).type === "error").length;
      if (onDeno) expect(notices).toBeLessThanOrEqual(5);
      else expect(notices).toBe(1);
    } finally {
      burst.close();
    }
  });

  test("hardening: the oldest unauthenticated socket makes room past 16; past 64 sockets the upgrade is refused", async () => {
    const opened: Awaited<ReturnType<typeof openSocket>>[] = [];
    try {
      for (let i = 0; i < 17; i++) opened.push(await openSocket(`${s.wsUrl}/ws/modules`));
      expect(await closeCode(opened[0]!)).toBe(1008);
      for (const socket of opened.slice(1)) {
        socket.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
        await socket.waitFor((f) => f.type === "module:authenticated");
      }
      while (opened.length < 65) {
        const socket = await openSocket(`${s.wsUrl}/ws/modules`);
        opened.push(socket);
        socket.ws.send(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
        await socket.waitFor((f) => f.type === "module:authenticated");
      }
      // 64 open now (the first one was closed): one more is refused before the upgrade.
      const refused = await fetch(`${s.url}/ws/modules`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      expect(refused.status).toBe(429);
    } finally {
      for (const socket of opened) socket.close();
    }
  });
});

describe("with OPENGENIE_MODULES_POLICY denying a plugin", () => {
  let s: TestStation;
  beforeAll(async () => {
    s = await startTestStation({
      env: {
        AUTHENTICATION_TOKEN: TOKEN,
        OPENGENIE_MODULES_POLICY: JSON.stringify({ denyPlugins: ["muted"] }),
      },
    });
  });
  afterAll(() => s.stop());

  test("a denied plugin's events reach no one, and nothing is routed to it", async () => {
    const muted = await join(s, "chatterbox", { identity: { plugin: "muted", instanceId: "m-1" } });
    const listener = await join(s, "listener");
    const other = await join(s, "other");
    muted.send({ type: "chatter:say", data: { text: "hello" } });
    muted.send({ type: "chatter:say", data: { text: "to you" }, route: { destinations: ["listener"] } });
    await muted.roundTrip();
    other.send({ type: "other:say", data: { text: "anyone?" } });
    await listener.waitFor(of("other:say"));
    await other.roundTrip();
    await listener.roundTrip();
    await muted.roundTrip();
    expect(listener.received.filter(of("chatter:say"))).toEqual([]);
    expect(other.received.filter(of("chatter:say"))).toEqual([]);
    expect(muted.received.filter(of("other:say"))).toEqual([]);
    // It is still a module: authenticated and in the registry.
    expect(listener.registryNames()).toContain("chatterbox");

    // Nor does ui:configure cross the policy, either way.
    muted.send({ type: "ui:configure", data: { moduleName: "listener", config: { x: 1 } } });
    listener.send({ type: "ui:configure", data: { moduleName: "chatterbox", config: { x: 2 } } });
    await muted.waitFor((e) => e.type === "error" && String(e.data.message).includes("module not found"));
    await listener.waitFor((e) => e.type === "error" && String(e.data.message).includes("module not found"));
    await muted.roundTrip();
    await listener.roundTrip();
    expect([...muted.received, ...listener.received].filter(of("module:configure"))).toEqual([]);
  });
});

describe("with OPENGENIE_MODULES_COMMANDS=on", () => {
  let s: TestStation;
  let admin: string;
  beforeAll(async () => {
    s = await startTestStation({ env: { AUTHENTICATION_TOKEN: TOKEN, OPENGENIE_MODULES_COMMANDS: "on" } });
    admin = await s.userToken("cmd-admin", "admin");
  });
  afterAll(() => s.stop());

  test("a module commands a device through the station's module and gets the result; admin actions stay refused", async () => {
    const assistant = await join(s, "assistant");
    const { device, credentials } = await addDevice(s, admin, "Desk light", "light");
    const sim = simFor(credentials, "light");
    sims.push(sim);
    await sim.start();
    await assistant.waitFor(
      (e) => e.type === "device.status" && e.data.deviceId === device.id && e.data.online === true,
    );
    assistant.send({
      type: "opengenie:device.command",
      data: { deviceId: device.id, action: "set_brightness", params: { brightness: 70 }, wait: 3000 },
      route: { destinations: ["module:opengenie"] },
      metadata: { event: { id: "ask-1" } },
    } as Parameters<ModuleTestClient["send"]>[0]);
    const result = await assistant.waitFor(of("opengenie:device.command.result"));
    expect(result.data).toMatchObject({
      deviceId: device.id,
      action: "set_brightness",
      ok: true,
      status: "ok",
    });
    expect(result.metadata?.event?.parentId).toBe("ask-1");
    expect(sim.received.at(-1)?.command).toMatchObject({ action: "set_brightness", brightness: 70 });
    expect(s.logger.lines.some((l) => l.includes("module device command") && l.includes(device.id))).toBe(
      true,
    );
    await assistant.waitFor(
      (e) => e.type === "device.state" && (e.data.state as { brightness?: number }).brightness === 70,
    );

    assistant.mark();
    assistant.send({
      type: "opengenie:device.command",
      data: { deviceId: device.id, action: "factory_reset" },
      route: { destinations: ["opengenie"] },
    });
    const refused = await assistant.waitFor(
      (e) => e.type === "opengenie:device.command.result" && e.data.action === "factory_reset",
    );
    expect(refused.data).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    expect(sim.received.some((r) => r.command.action === "factory_reset")).toBe(false);
  });

  test("a module may have 16 device commands waiting; the next is refused at once", async () => {
    const assistant = await join(s, "impatient");
    const { device, credentials } = await addDevice(s, admin, "Silent switch", "switch");
    // A device on /ws/iot that takes commands and never confirms them.
    const silent = await openIotSocket(
      `${s.wsUrl}/ws/iot?deviceId=${device.id}&token=${credentials.mqttPassword}`,
    );
    silent.ws.send(JSON.stringify({ topic: "handshake", payload: { type: "switch", firmwareVersion: "1" } }));
    await silent.next();
    for (let i = 0; i < 17; i++) {
      assistant.send({
        type: "opengenie:device.command",
        data: { deviceId: device.id, action: "toggle", wait: 60_000 },
        route: { destinations: ["opengenie"] },
      });
    }
    const refused = await assistant.waitFor(of("opengenie:device.command.result"));
    expect(refused.data).toMatchObject({ ok: false, error: { code: "RATE_LIMITED" } });
    await waitFor(() => silent.frames.length >= 17, 5000, "16 commands at the device");
    expect(silent.frames.length).toBe(17); // the handshake ack and 16 commands
    silent.close();
  });
});

describe("without AUTHENTICATION_TOKEN", () => {
  let s: TestStation;
  beforeAll(async () => {
    s = await startTestStation();
  });
  afterAll(() => s.stop());

  test("a module on this machine is authenticated on open and gets the registry", async () => {
    const m = await join(s, "local-helper", { token: undefined });
    expect(m.received[0]?.type).toBe("module:authenticated");
    expect(m.registryNames()).toEqual(["local-helper", "opengenie"]);
  });

  bunOnly(STATION_OBJECT_ONLY_IN_PROCESS)(
    "a module from another machine is refused before the upgrade",
    async () => {
      const hub = s.station.modules.find((m) => m.name === "module-hub")!;
      const endpoint = hub.sockets!.find((e) => e.path === "/ws/modules")!;
      let upgraded = false;
      const res = await endpoint.upgrade(new Request(`${s.url}/ws/modules`), {
        remoteAddress: "192.168.1.20",
        upgrade: () => {
          upgraded = true;
          return true;
        },
      });
      expect(res?.status).toBe(403);
      expect(upgraded).toBe(false);
    },
  );
});

describeBunOnly(CLOCK_ONLY_IN_PROCESS)("on the injected clock", () => {
  const clock = createManualClock(Date.now());
  let s: TestStation;
  beforeAll(async () => {
    s = await startTestStation({ clock, env: { AUTHENTICATION_TOKEN: TOKEN } });
  });
  afterAll(() => s.stop());

  async function authenticated(token = TOKEN) {
    const socket = await openSocket(`${s.wsUrl}/ws/modules`);
    socket.ws.send(JSON.stringify({ type: "module:authenticate", data: { token } }));
    return socket;
  }
  const ping = (id: string) =>
    JSON.stringify({
      type: "transport:connection:heartbeat",
      data: { kind: "ping" },
      metadata: { event: { id } },
    });
  const pong = (id: string) => (f: JsonFrame) =>
    f.type === "transport:connection:heartbeat" &&
    (f.metadata as { event: { parentId?: string } }).event.parentId === id;

  test("a module silent for 60 s is dropped with 4000; one that keeps its heartbeat stays", async () => {
    const silent = await authenticated();
    const beating = await authenticated();
    await silent.waitFor((f) => f.type === "module:authenticated");
    await beating.waitFor((f) => f.type === "module:authenticated");
    clock.advance(30_000);
    beating.ws.send(ping("beat-1"));
    await beating.waitFor(pong("beat-1"));
    clock.advance(41_000);
    expect(await closeCode(silent)).toBe(4000);
    beating.ws.send(ping("beat-2"));
    await beating.waitFor(pong("beat-2"));
    beating.close();
  });

  test("after 5 wrong tokens from one address, the next check waits out the minute: a right token then gets in", async () => {
    const guesses = await Promise.all([1, 2, 3, 4, 5].map(() => authenticated("guess")));
    for (const guess of guesses) {
      await guess.waitFor(
        (f) => f.type === "error" && (f.data as { message: string }).message === "invalid token",
      );
      guess.close();
    }
    const late = await authenticated(TOKEN);
    // Its token is not checked yet: the pong comes, and no answer before it.
    late.ws.send(ping("late-1"));
    await late.waitFor(pong("late-1"));
    expect(late.frames.map((f) => f.type)).toEqual(["transport:connection:heartbeat"]);
    clock.advance(60_000);
    await late.waitFor((f) => f.type === "module:authenticated");
    expect(late.frames.filter((f) => f.type === "error")).toEqual([]);
    late.close();
  });
});
