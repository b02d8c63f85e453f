/**
 * docs/mosquitto.md's setup, exercised: a real Mosquitto with no anonymous access, a password
 * file and the very ACL file the document gives (read from the document, so the two cannot
 * drift apart), the station on its own account, and devices added as the document says.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import type { DeviceCredentials as Credentials } from "../src/protocol/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { type Mosquitto, mosquittoPasswdPath, mosquittoPath, startMosquitto } from "./helpers/mosquitto.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

/** The ```conf block of docs/mosquitto.md that is the ACL file. */
function aclFromDocs(): string {
  const doc = readFileSync(join(repoRoot, "docs", "mosquitto.md"), "utf8");
  const block = [...doc.matchAll(/```conf\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((text) => text.startsWith("# /etc/mosquitto/opengenie.acl"));
  if (!block) throw new Error("docs/mosquitto.md has no ACL block");
  return block;
}

/** Home Assistant's account, as the ACL names it (`user homeassistant`). */
const HA = { username: "homeassistant", password: "home-assistant-password" };

/** The station's account, as the ACL names it (`user opengenie`). */
const STATION = { username: "opengenie", password: "station-account-password" };

function topic(c: Credentials, suffix: string) {
  return `station/${c.stationId}/device/${c.deviceId}/${suffix}`;
}

/** True once Mosquitto accepts this device's login (it reloads its password file in the background). */
async function accepted(c: Credentials): Promise<boolean> {
  try {
    const client = await connectAsync(`mqtt://${c.mqttHost}:${c.mqttPort}`, {
      clientId: `${c.deviceId}-probe`,
      username: c.deviceId,
      password: c.mqttPassword,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!mosquittoPath() || !mosquittoPasswdPath())("Mosquitto with docs/mosquitto.md's ACL", () => {
  let mosquitto: Mosquitto;
  let s: TestStation;
  let admin: string;
  const sims: SimulatedDevice[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    mosquitto = await startMosquitto({
      auth: { users: { [STATION.username]: STATION.password }, acl: aclFromDocs() },
    });
    s = await startTestStation({
      env: {
        OPENGENIE_MQTT_URL: `mqtt://${STATION.username}:${STATION.password}@127.0.0.1:${mosquitto.port}`,
      },
    });
    admin = await s.userToken("acl-admin", "admin");
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    for (const sim of sims) await sim.stop({ graceful: false }).catch(() => {});
    await s.stop();
    await mosquitto.stop();
  });

  test("the station's account reads and writes every device topic; a device only its own", async () => {
    const health = (await (await s.api("/api/health")).json()) as { mqtt: { connected: boolean } };
    expect(health.mqtt.connected).toBe(true);

    const a = await addDevice(s, admin, "Lamp A", "light");
    const b = await addDevice(s, admin, "Lamp B", "light");
    // "Add each device with mosquitto_passwd … then reload Mosquitto."
    mosquitto.addUsers({
      [a.device.id]: a.credentials.mqttPassword,
      [b.device.id]: b.credentials.mqttPassword,
    });
    await eventually(
      () => accepted(a.credentials),
      (ok) => ok,
    );
    await eventually(
      () => accepted(b.credentials),
      (ok) => ok,
    );
    const simA = simFor(a.credentials, "light");
    const simB = simFor(b.credentials, "light");
    sims.push(simA, simB);
    // start() resolves on the handshake ack: the device wrote `handshake`, read `handshake/ack`.
    await simA.start();
    await simB.start();

    // Its own topics: state reaches the station, a command reaches it and its result comes back.
    await simA.publishState({ power: "off", brightness: 10 });
    await eventually(
      () => getDevice(s, admin, a.device.id),
      (d) => d.online && d.state.brightness === 10,
    );
    const ownCommand = await s.api(`/api/devices/${a.device.id}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "turn_on" }),
    });
    expect(ownCommand.status).toBe(200);
    expect(simA.received.map((c) => c.command.action)).toEqual(["turn_on"]);

    // Another device's topics, tried over a raw connection with A's login (the simulator only
    // listens to its own topics): a subscription to B's commands and a report into B's state.
    const spy = await connectAsync(`mqtt://127.0.0.1:${mosquitto.port}`, {
      clientId: `${a.device.id}-spy`,
      username: a.device.id,
      password: a.credentials.mqttPassword,
      reconnectPeriod: 0,
    });
    cleanups.push(() => spy.endAsync());
    const seen: string[] = [];
    spy.on("message", (t) => seen.push(t));
    // Mosquitto grants the SUBACK (the embedded broker answers 0x80) but delivers nothing.
    await spy.subscribeAsync([topic(b.credentials, "command"), topic(a.credentials, "command")], { qos: 1 });
    await spy.publishAsync(
      topic(b.credentials, "state"),
      JSON.stringify({ state: { power: "on", hijacked: true } }),
      { qos: 1 },
    );
    // A later report into A's own state on the same connection: once the station has it, it
    // would have had the one into B's state too.
    await spy.publishAsync(topic(a.credentials, "state"), JSON.stringify({ state: { brightness: 20 } }), {
      qos: 1,
    });
    await eventually(
      () => getDevice(s, admin, a.device.id),
      (d) => d.state.brightness === 20,
    );
    expect((await getDevice(s, admin, b.device.id)).state.hijacked).toBeUndefined();

    const command = (id: string, action: string) =>
      s.api(`/api/devices/${id}/commands?wait=3000`, {
        method: "POST",
        token: admin,
        body: JSON.stringify({ action }),
      });
    expect((await command(b.device.id, "turn_off")).status).toBe(200);
    expect(simB.received.map((c) => c.command.action)).toEqual(["turn_off"]);
    // Sent after B's: when A's own command has reached the spy, B's would have too.
    expect((await command(a.device.id, "turn_off")).status).toBe(200);
    await eventually(
      async () => seen,
      (topics) => topics.length > 0,
    );
    expect(seen).toEqual([topic(a.credentials, "command")]);
  }, 30_000);

  test("Home Assistant's account sees discovery, commands a device through the station, and reaches no device topic", async () => {
    const c = await addDevice(s, admin, "Lamp C", "light");
    mosquitto.addUsers({ [c.device.id]: c.credentials.mqttPassword, [HA.username]: HA.password });
    await eventually(
      () => accepted(c.credentials),
      (ok) => ok,
    );
    const simC = simFor(c.credentials, "light");
    sims.push(simC);
    await simC.start();
    const ha = await eventually(
      () =>
        connectAsync(`mqtt://127.0.0.1:${mosquitto.port}`, { ...HA, reconnectPeriod: 0 }).catch(
          () => undefined,
        ),
      (client) => client !== undefined,
    );
    cleanups.push(() => ha!.endAsync());
    const latest = new Map<string, string>();
    ha!.on("message", (t, payload) => latest.set(t, payload.toString()));
    await ha!.subscribeAsync(["homeassistant/#", "opengenie/#", "station/#"], { qos: 1 });
    const configTopic = [
      ...(await eventually(
        async () => [...latest.keys()],
        (topics) => topics.some((t) => t.startsWith("homeassistant/light/") && t.includes(c.device.id)),
      )),
    ].find((t) => t.startsWith("homeassistant/light/") && t.includes(c.device.id))!;
    const config = JSON.parse(latest.get(configTopic)!) as { command_topic: string; state_topic: string };
    // A forged device command is dropped by the ACL; the command through the bridge arrives.
    await ha!.publishAsync(
      topic(c.credentials, "command"),
      JSON.stringify({ action: "turn_off", requestId: "forged" }),
      { qos: 1 },
    );
    await ha!.publishAsync(config.command_topic, JSON.stringify({ state: "ON", brightness: 40 }), { qos: 1 });
    await eventually(
      async () => simC.received.map((r) => r.command.action),
      (actions) => actions.includes("set_brightness"),
    );
    expect(simC.received.map((r) => r.command.requestId)).not.toContain("forged");
    await eventually(
      async () => JSON.parse(latest.get(config.state_topic) ?? "{}") as { brightness?: number },
      (state) => state.brightness === 40,
    );
    // `station/#` was granted by Mosquitto, but none of its messages were delivered.
    expect([...latest.keys()].filter((t) => t.startsWith("station/"))).toEqual([]);
  }, 30_000);
});
