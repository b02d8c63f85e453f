/**
 * Several instances, one station (CONTRACT.md section 10, docs/scale-out.md): three real
 * processes on one Mosquitto and one shared database, each device message processed by exactly
 * one of them, and what one processed seen by every other's clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { createdDeviceSchema } from "../src/protocol/index.ts";
import { type Cluster, metricValue, startCluster } from "./helpers/cluster.ts";
import { eventually, simFor } from "./helpers/devices.ts";
import { mosquittoPath } from "./helpers/mosquitto.ts";
import { openSocket } from "./helpers/ws-client.ts";

const DEVICES = 10;
const EVENTS = 300;

let cluster: Cluster;
let admin: string;
const sims: SimulatedDevice[] = [];
const ids: string[] = [];

async function storedEvents(id: string): Promise<{ kind: string; data: Record<string, unknown> }[]> {
  const out: { kind: string; data: Record<string, unknown> }[] = [];
  let before = "";
  for (;;) {
    const res = await cluster.instances[1]!.api(`/api/devices/${id}/events?limit=500&before=${before}`, {
      token: admin,
    });
    const { events } = (await res.json()) as {
      events: { id: number; kind: string; data: Record<string, unknown> }[];
    };
    out.push(...events);
    if (events.length < 500) return out;
    before = String(events.at(-1)!.id);
  }
}

describe.skipIf(!mosquittoPath())("three instances, one station", () => {
  beforeAll(async () => {
    // Home Assistant discovery on: its commands must reach a device once, not once per instance.
    cluster = await startCluster({ instances: 3, env: { OPENGENIE_HA_DISCOVERY: "on" } });
    admin = await cluster.userToken("admin", "admin");
    const [a, b] = cluster.instances;
    for (let i = 0; i < DEVICES; i++) {
      // Added on A or B: every instance learns of it.
      const on = i % 2 === 0 ? a! : b!;
      const res = await on.api("/api/devices", {
        method: "POST",
        token: admin,
        body: JSON.stringify({ name: `light ${i}`, type: "light" }),
      });
      expect(res.status).toBe(201);
      const created = createdDeviceSchema.parse(await res.json());
      ids.push(created.device.id);
      const sim = simFor(created.credentials, "light");
      sims.push(sim);
    }
    await Promise.all(sims.map((s) => s.start()));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop().catch(() => undefined)));
    await cluster?.stop();
  });

  test("each has its own instance id in /api/health and /metrics", async () => {
    for (const i of cluster.instances) {
      const health = (await (await i.api("/api/health")).json()) as { instanceId: string; stationId: string };
      expect(health).toMatchObject({ instanceId: i.id, stationId: cluster.stationId });
      expect(await i.metrics()).toContain(`opengenie_instance_info{instance_id="${i.id}"`);
    }
  });

  test("10 devices × 300 QoS 1 events: exactly 3,000 stored, none twice; C's /ws sees state A and B processed", async () => {
    const [a, b, c] = cluster.instances;
    const socket = await openSocket(`${c!.wsUrl}/ws?token=${admin}`);
    await socket.request("subscribe", { channel: "devices" });
    const brightness = new Map<string, unknown>();
    socket.ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === "push" && frame.event === "device.state")
        brightness.set(frame.data.deviceId, frame.data.state.brightness);
    });
    const sentBefore = await Promise.all(
      [a!, b!].map(async (i) =>
        metricValue(await i.metrics(), "opengenie_cluster_facts_sent_total", 'outcome="sent"'),
      ),
    );

    // 40 events/s per device: under the per-device rate limit however the broker spreads them.
    await Promise.all(
      sims.map(async (sim) => {
        for (let seq = 0; seq < EVENTS; seq++) {
          await sim.publishEvent("device_event", { seq });
          if (seq % 10 === 9) await sim.publishState({ brightness: seq });
          await Bun.sleep(25);
        }
      }),
    );

    for (const id of ids) {
      const events = await eventually(
        () => storedEvents(id),
        (list) => list.filter((e) => e.kind === "device_event").length >= EVENTS,
        20_000,
      );
      const seqs = events.filter((e) => e.kind === "device_event").map((e) => e.data.seq as number);
      expect(seqs.length).toBe(EVENTS);
      expect(new Set(seqs).size).toBe(EVENTS);
    }
    // One last state per device, each processed by whichever instance the broker picks (two
    // in three elsewhere than C): C's socket sees every one of them …
    await Promise.all(sims.map((sim, k) => sim.publishState({ brightness: 5000 + k })));
    await eventually(
      async () => ids.filter((id, k) => brightness.get(id) === 5000 + k).length,
      (n) => n === DEVICES,
      10_000,
    );
    // … and A and B each processed (and told the others of) a share of the messages.
    const sentAfter = await Promise.all(
      [a!, b!].map(async (i) =>
        metricValue(await i.metrics(), "opengenie_cluster_facts_sent_total", 'outcome="sent"'),
      ),
    );
    expect(sentAfter[0]!).toBeGreaterThan(sentBefore[0]! + 100);
    expect(sentAfter[1]!).toBeGreaterThan(sentBefore[1]! + 100);
    socket.close();
  }, 120_000);

  test("a command sent on A with ?wait completes when another instance processed the result", async () => {
    const [a] = cluster.instances;
    const before = metricValue(
      await a!.metrics(),
      "opengenie_cluster_facts_applied_total",
      'kind="command.result"',
    );
    for (let n = 0; n < 6; n++) {
      const res = await a!.api(`/api/devices/${ids[n]}/commands?wait=5000`, {
        method: "POST",
        token: admin,
        body: JSON.stringify({ action: n % 2 ? "turn_off" : "turn_on" }),
      });
      expect(res.status).toBe(200);
    }
    // Results that B or C processed reached A as facts (the broker spreads them over all three).
    const after = metricValue(
      await a!.metrics(),
      "opengenie_cluster_facts_applied_total",
      'kind="command.result"',
    );
    expect(after).toBeGreaterThan(before);
  });

  test("a token revoked on B closes its sockets on A and C with 4003", async () => {
    const [a, b, c] = cluster.instances;
    const token = await cluster.userToken("member1", "member", b);
    const onA = await openSocket(`${a!.wsUrl}/ws?token=${token}`);
    const onC = await openSocket(`${c!.wsUrl}/ws?token=${token}`);
    await onA.request("ping");
    await onC.request("ping");
    const res = await b!.api("/api/auth/logout", { method: "POST", token });
    expect(res.status).toBe(200);
    const closed = (socket: { closed: Promise<{ code: number }> }) =>
      Promise.race([socket.closed.then((c) => c.code), Bun.sleep(5000).then(() => "still open")]);
    expect(await closed(onA)).toBe(4003);
    expect(await closed(onC)).toBe(4003);
  });

  test("a Home Assistant command reaches the device once, whichever instance takes it", async () => {
    const ha = mqtt.connect(cluster.broker.url, { protocolVersion: 4 });
    await new Promise((resolve) => ha.once("connect", resolve));
    const sim = sims[3]!;
    const before = sim.received.length;
    await ha.publishAsync(`opengenie/${cluster.stationId}/device/${ids[3]}/set`, '{"state":"OFF"}', {
      qos: 1,
    });
    await eventually(
      async () => sim.received.length,
      (n) => n > before,
    );
    await Bun.sleep(500);
    expect(sim.received.length - before).toBe(1);
    await ha.endAsync();
  });

  test("an automation created on A runs on whichever instance processes its trigger", async () => {
    const [a, b] = cluster.instances;
    const res = await a!.api("/api/automations", {
      method: "POST",
      token: admin,
      body: JSON.stringify({
        name: "bright 4 lights 5",
        triggers: [{ type: "device_state", deviceId: ids[4], key: "brightness", op: "gt", value: 9000 }],
        actions: [{ type: "device_command", deviceId: ids[5], action: "turn_on" }],
      }),
    });
    expect(res.status).toBe(201);
    const { automation } = (await res.json()) as { automation: { id: string } };
    await Bun.sleep(300); // the other instances read it
    // Three crossings, each processed by one instance (the broker spreads them over all three).
    for (let n = 0; n < 3; n++) {
      await sims[4]!.publishState({ brightness: 1 });
      await Bun.sleep(100);
      await sims[4]!.publishState({ brightness: 9500 });
      await Bun.sleep(100);
    }
    const finished = await eventually(
      async () => {
        const r = await a!.api(`/api/automations/${automation.id}/runs`, { token: admin });
        return ((await r.json()) as { runs: { finishedAt?: number }[] }).runs.filter((run) => run.finishedAt);
      },
      (runs) => runs.length >= 3,
      10_000,
    );
    expect(finished).toHaveLength(3);
    expect((await b!.api(`/api/automations/${automation.id}`, { token: admin })).status).toBe(200);
  });

  test("a fact forged by a device on the broker is ignored and counted", async () => {
    const [a, b, c] = cluster.instances;
    const sim = sims[0]!;
    const id = ids[0]!;
    const forged = {
      instanceId: "Z",
      at: Date.now(),
      data: { deviceId: id, state: { brightness: -99 }, at: Date.now() },
    };
    const topic = `station/${cluster.stationId}/internal/Z/device.state`;
    expect(await sim.publishToTopic(topic, `${"0".repeat(64)}.${JSON.stringify(forged)}`)).toBe(true);
    for (const i of [a!, b!, c!]) {
      await eventually(
        async () => metricValue(await i.metrics(), "opengenie_cluster_facts_rejected_total", 'reason="mac"'),
        (n) => n >= 1,
      );
      const res = await i.api(`/api/devices/${id}`, { token: admin });
      const { device } = (await res.json()) as { device: { state: Record<string, unknown> } };
      expect(device.state.brightness).not.toBe(-99);
    }
  });

  test("a device's last will is decided once: one offline status, seen offline on every instance", async () => {
    const id = ids[9]!;
    const offline = async () =>
      (await storedEvents(id)).filter((e) => e.kind === "status" && e.data.online === false).length;
    expect(await offline()).toBe(0);
    await sims[9]!.stop({ graceful: false });
    for (const i of cluster.instances) {
      await eventually(
        async () => {
          const res = await i.api(`/api/devices/${id}`, { token: admin });
          return ((await res.json()) as { device: { online: boolean } }).device.online;
        },
        (online) => online === false,
      );
    }
    await Bun.sleep(1500); // past the writers' flush
    expect(await offline()).toBe(1);
  });
});
