/**
 * Facts between the instances of a station (docs/scale-out.md) replayed or arriving late: the
 * MAC proves who sent one, not when, so applying one must not undo something newer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { deriveFactKey, encodeFact, factTopic } from "../src/cluster/index.ts";
import { createdDeviceSchema } from "../src/protocol/index.ts";
import { type Cluster, metricValue, startCluster } from "./helpers/cluster.ts";
import { eventually, simFor } from "./helpers/devices.ts";
import { mosquittoPath } from "./helpers/mosquitto.ts";
import { openSocket } from "./helpers/ws-client.ts";

let cluster: Cluster;
let admin: string;
let sim: SimulatedDevice;
let id: string;

describe.skipIf(!mosquittoPath())("old facts on the internal topic", () => {
  beforeAll(async () => {
    cluster = await startCluster({ instances: 2 });
    admin = await cluster.userToken("admin", "admin");
    const res = await cluster.instances[0]!.api("/api/devices", {
      method: "POST",
      token: admin,
      body: JSON.stringify({ name: "lamp", type: "light" }),
    });
    expect(res.status).toBe(201);
    const created = createdDeviceSchema.parse(await res.json());
    id = created.device.id;
    sim = simFor(created.credentials, "light");
    await sim.start();
  }, 90_000);

  afterAll(async () => {
    await sim?.stop().catch(() => undefined);
    await cluster?.stop();
  });

  test("a replayed old role fact does not raise a user's sockets on another instance", async () => {
    const [a, b] = cluster.instances;
    const spy = mqtt.connect(cluster.broker.url, { protocolVersion: 4 });
    await new Promise((resolve) => spy.once("connect", resolve));
    const captured: { topic: string; payload: Buffer }[] = [];
    spy.on("message", (topic, payload) => captured.push({ topic, payload }));
    await spy.subscribeAsync(`station/${cluster.stationId}/internal/+/user.role_changed`, { qos: 1 });
    const token = await cluster.userToken("replayed", "guest", b);
    const users = (await (await a!.api("/api/users", { token: admin })).json()) as {
      users: { id: string; username: string }[];
    };
    const userId = users.users.find((u) => u.username === "replayed")!.id;
    const setRole = (role: string) =>
      a!.api(`/api/users/${userId}`, { method: "PATCH", token: admin, body: JSON.stringify({ role }) });
    expect((await setRole("member")).status).toBe(200);
    await eventually(
      async () => captured.length,
      (n) => n >= 1,
    );
    const memberFact = captured[0]!;
    expect((await setRole("guest")).status).toBe(200);
    const applied = async () =>
      metricValue(await b!.metrics(), "opengenie_cluster_facts_applied_total", 'kind="user.role_changed"');
    await eventually(applied, (n) => n >= 2);
    const socket = await openSocket(`${b!.wsUrl}/ws?token=${token}`);
    const forbidden = { type: "error", code: "FORBIDDEN" };
    expect(await socket.request("subscribe", { channel: "automations" })).toMatchObject(forbidden);
    // Someone with access to the internal topic sends the old "member" fact again, unchanged.
    const before = await applied();
    await spy.publishAsync(memberFact.topic, memberFact.payload, { qos: 1 });
    await eventually(applied, (n) => n > before);
    await Bun.sleep(200);
    expect(await socket.request("subscribe", { channel: "automations" })).toMatchObject(forbidden);
    socket.close();
    await spy.endAsync();
  });

  test("a state fact older than the device's current state (crossing or replayed) is not applied", async () => {
    const brightness = async (i: (typeof cluster.instances)[number]) => {
      const res = await i.api(`/api/devices/${id}`, { token: admin });
      return ((await res.json()) as { device: { state: Record<string, unknown> } }).device.state.brightness;
    };
    await sim.publishState({ brightness: 77 });
    for (const i of cluster.instances)
      await eventually(
        () => brightness(i),
        (b) => b === 77,
      );
    // A valid fact (the station's key) from a minute ago, as a late or replayed one arrives.
    const key = deriveFactKey(cluster.env.OPENGENIE_JWT_SECRET!);
    const topic = factTopic(cluster.stationId, "old", "device.state");
    const at = Date.now() - 60_000;
    const payload = encodeFact(key, topic, {
      instanceId: "old",
      at,
      data: { deviceId: id, state: { brightness: 11 }, at },
    });
    const applied = (i: (typeof cluster.instances)[number]) => async () =>
      metricValue(await i.metrics(), "opengenie_cluster_facts_applied_total", 'kind="device.state"');
    const before = await Promise.all(cluster.instances.map((i) => applied(i)()));
    const raw = mqtt.connect(cluster.broker.url, { protocolVersion: 4 });
    await new Promise((resolve) => raw.once("connect", resolve));
    await raw.publishAsync(topic, payload, { qos: 1 });
    await raw.endAsync();
    for (const [k, i] of cluster.instances.entries()) {
      await eventually(applied(i), (n) => n > before[k]!);
      expect(await brightness(i)).toBe(77);
    }
  });
});
