import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "mqtt";
import { createWsSimulatedDevice } from "../firmware-sim/index.ts";
import { addDevice, simFor } from "./helpers/devices.ts";
import { playHomeAssistant } from "./helpers/home-assistant.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";

// Integration logins on the embedded broker (`opengenie integration …`, GET /api/integrations)
// and OPENGENIE_HA_DISCOVERY=off. Discovery itself: tests/home-assistant.test.ts.
const env = { OPENGENIE_ADVERTISE_HOST: "127.0.0.1" };

describe("integration logins", () => {
  let s: TestStation;
  let admin: string;
  let login: { username: string; password: string };

  beforeAll(async () => {
    s = await startTestStation();
    admin = await s.userToken("admin1", "admin");
    const added = await cli(s.dataDir, ["integration", "add", "home-assistant", "--json"], "", env);
    login = JSON.parse(added.stdout) as { username: string; password: string };
  });
  afterAll(async () => {
    await s.stop();
  });

  test("GET /api/integrations lists logins for admins only, without secrets", async () => {
    expect((await s.api("/api/integrations")).status).toBe(401);
    expect((await s.api("/api/integrations", { token: "not-a-token" })).status).toBe(401);
    const member = await s.userToken("member1", "member");
    expect((await s.api("/api/integrations", { token: member })).status).toBe(403);
    const res = await s.api("/api/integrations", { token: admin });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      homeAssistant: { enabled: true, prefix: "homeassistant" },
      integrations: [{ name: "home-assistant", username: "integration-home-assistant" }],
    });
    expect(text).not.toContain(login!.password);
    expect(text).not.toContain("hash");
  });

  test("a wrong password or a removed login is refused; bad names change nothing", async () => {
    const url = `mqtt://127.0.0.1:${s.info.mqttPort}`;
    const bad = playHomeAssistant(url, { username: "integration-home-assistant", password: "wrong" });
    await expect(bad.ready).rejects.toThrow();
    bad.client.end(true);
    const temp = await cli(s.dataDir, ["integration", "add", "temp", "--json"], "", env);
    const tempLogin = JSON.parse(temp.stdout) as { username: string; password: string };
    const ok = playHomeAssistant(url, tempLogin);
    await ok.ready;
    ok.client.end(true);
    expect((await cli(s.dataDir, ["integration", "remove", "temp"])).code).toBe(0);
    const removed = playHomeAssistant(url, tempLogin);
    await expect(removed.ready).rejects.toThrow();
    removed.client.end(true);
    // A device's client id stays the device's: an integration cannot squat it.
    // (One that never connected, so the broker has no session of it to protect.)
    const { device: idle } = await addDevice(s, admin, "Never connected", "switch");
    const squat = connect(url, { clientId: `${idle.id}-x`, reconnectPeriod: 0, ...login });
    const outcome = await new Promise<string>((resolve) => {
      squat.once("connect", () => resolve("connected"));
      squat.once("error", (err) => resolve(err.message));
    });
    expect(outcome).toContain("Not authorized");
    squat.end(true);
    for (const args of [
      ["add", "Bad Name"],
      ["add", "home-assistant"],
      ["add", "-x"],
      ["remove", "nobody"],
    ]) {
      const result = await cli(s.dataDir, ["integration", ...args], "", env);
      expect(result.code).toBe(1);
      expect(result.stderr).toStartWith("error: ");
    }
    const list = await cli(s.dataDir, ["integrations", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: "home-assistant", username: "integration-home-assistant" }),
    ]);
    expect(list.stdout).not.toContain("password");
  });

  test("an integration's retained publish is kept for <prefix>/status only; a retained command is not stored", async () => {
    const url = `mqtt://127.0.0.1:${s.info.mqttPort}`;
    const open = async (clientId: string) => {
      const client = connect(url, { clientId, reconnectPeriod: 0, ...login });
      await new Promise((resolve, reject) => {
        client.once("connect", resolve);
        client.once("error", reject);
      });
      return client;
    };
    const writer = await open("ha-retain-writer");
    const command = `opengenie/${s.info.stationId}/device/no-such-device-1/set`;
    await writer.publishAsync(command, "ON", { qos: 1, retain: true });
    await writer.publishAsync("homeassistant/status", "online", { qos: 1, retain: true });
    await writer.endAsync();

    const reader = await open("ha-retain-reader");
    const retained: string[] = [];
    reader.on("message", (topic, _payload, packet) => {
      if (packet.retain) retained.push(topic);
    });
    await reader.subscribeAsync([command, "homeassistant/status"], { qos: 1 });
    await waitFor(async () => retained.includes("homeassistant/status"), 3000);
    await reader.publishAsync("homeassistant/status", "online", { qos: 1 }); // a round trip
    expect(retained).toEqual(["homeassistant/status"]);
    await reader.endAsync();
  });

  test("an integration login keeps at most 8 stored sessions, like a device: the oldest goes", async () => {
    const url = `mqtt://127.0.0.1:${s.info.mqttPort}`;
    const session = async (clientId: string) => {
      const client = connect(url, { clientId, clean: false, reconnectPeriod: 0, ...login });
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        client.once("connect", resolve);
        client.once("error", reject);
      });
      return { client, sessionPresent: connack.sessionPresent };
    };
    for (let i = 1; i <= 12; i++) {
      const { client } = await session(`ha-stored-${i}`);
      await client.subscribeAsync("homeassistant/#", { qos: 1 });
      await client.endAsync();
    }
    const oldest = await session("ha-stored-1");
    expect(oldest.sessionPresent).toBe(false);
    await oldest.client.endAsync(true);
    const newest = await session("ha-stored-12");
    expect(newest.sessionPresent).toBe(true);
    await newest.client.endAsync(true);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const stored = Number(/^opengenie_mqtt_stored_sessions (\d+)$/m.exec(metrics)?.[1]);
    expect(stored).toBeLessThanOrEqual(8);
  });
});

test("a Home Assistant command reaches a /ws/iot device through the device core too", async () => {
  const s = await startTestStation();
  try {
    const admin = await s.userToken("admin1", "admin");
    const added = await cli(s.dataDir, ["integration", "add", "ha", "--json"], "", env);
    const ha = playHomeAssistant(`mqtt://127.0.0.1:${s.info.mqttPort}`, JSON.parse(added.stdout));
    await ha.ready;
    await ha.client.subscribeAsync(["homeassistant/#", `opengenie/${s.config.stationId}/#`], { qos: 1 });
    const { device, credentials } = await addDevice(s, admin, "Wi-Fi plug", "switch");
    const plug = createWsSimulatedDevice({
      url: s.wsUrl,
      deviceId: device.id,
      token: credentials.mqttPassword,
      type: "switch",
      reconnectPeriodMs: 50,
    });
    await plug.start();
    const base = `opengenie/${s.config.stationId}/device/${device.id}`;
    await waitFor(() => ha.latest.get(`${base}/availability`) === "online");
    await ha.client.publishAsync(`${base}/set`, "ON", { qos: 1 });
    await waitFor(() => plug.received.some((r) => r.command.action === "turn_on"));
    await waitFor(() => ha.json(`${base}/state`)?.state === "ON");
    await plug.stop();
    ha.client.end(true);
  } finally {
    await s.stop();
  }
});

test("OPENGENIE_HA_DISCOVERY=off publishes nothing and GET /api/integrations says so", async () => {
  const s = await startTestStation({ env: { OPENGENIE_HA_DISCOVERY: "off" } });
  try {
    const admin = await s.userToken("admin1", "admin");
    const added = await cli(s.dataDir, ["integration", "add", "ha", "--json"], "", env);
    const ha = playHomeAssistant(`mqtt://127.0.0.1:${s.info.mqttPort}`, JSON.parse(added.stdout));
    await ha.ready;
    await ha.client.subscribeAsync(["homeassistant/#", `opengenie/${s.config.stationId}/#`], { qos: 1 });
    const { credentials } = await addDevice(s, admin, "Lamp", "light");
    const sim = simFor(credentials, "light");
    await sim.start();
    // A message of our own after the device came online: anything the station sent is in by then.
    await ha.client.publishAsync("homeassistant/status", "online", { qos: 1 });
    await waitFor(() => ha.latest.has("homeassistant/status"));
    expect([...ha.latest.keys()]).toEqual(["homeassistant/status"]);
    const res = await s.api("/api/integrations", { token: admin });
    expect(((await res.json()) as { homeAssistant: unknown }).homeAssistant).toEqual({
      enabled: false,
      prefix: "homeassistant",
    });
    await sim.stop({ graceful: true });
    ha.client.end(true);
  } finally {
    await s.stop();
  }
});
