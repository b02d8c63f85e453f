import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { addDevice, simFor } from "./helpers/devices.ts";
import { discoveryProblems, parseConfigTopic } from "./helpers/ha-schema.ts";
import { granted, type Ha, playHomeAssistant } from "./helpers/home-assistant.ts";
import { type Mosquitto, mosquittoPath, startMosquitto } from "./helpers/mosquitto.ts";
import { spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";

/**
 * A case only one broker has, registered only there (not shown as skipped on the other):
 * integration logins are the embedded broker's, and the station's last will needs its own
 * client on an external broker.
 */
const onlyWhen = (registered: boolean) =>
  registered ? test : (..._args: Parameters<typeof test>) => undefined;

// Home Assistant MQTT discovery (CONTRACT.md section 9) against the embedded broker and a real
// Mosquitto, with an MQTT.js client playing Home Assistant. No real Home Assistant can run here
// (no PyPI, no network): configs are checked against tests/helpers/ha-schema.ts.
const modes = mosquittoPath() ? (["embedded", "mosquitto"] as const) : (["embedded"] as const);

describe.each(modes)("Home Assistant discovery (%s broker)", (mode) => {
  const dir = makeTempDir();
  let s: TestStation;
  let mosquitto: Mosquitto | undefined;
  let ha: Ha;
  let admin: string;
  const sims = new Map<string, SimulatedDevice>();
  const ids = new Map<string, string>();
  let login: { username: string; password: string } | undefined;
  const env = (): Record<string, string> => (mosquitto ? { OPENGENIE_MQTT_URL: mosquitto.url } : {});

  beforeAll(async () => {
    if (mode === "mosquitto") mosquitto = await startMosquitto();
    s = await startTestStation({ dataDir: dir.path, env: env() });
    admin = await s.userToken("admin1", "admin");
    if (mode === "embedded") {
      const added = await cli(dir.path, ["integration", "add", "home-assistant", "--json"], "", {
        OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
      });
      expect(added.code).toBe(0);
      const creds = JSON.parse(added.stdout) as {
        host: string;
        port: number;
        username: string;
        password: string;
      };
      expect(creds).toMatchObject({
        host: "127.0.0.1",
        port: s.info.mqttPort,
        username: "integration-home-assistant",
      });
      login = { username: creds.username, password: creds.password };
    }
    ha = playHomeAssistant(mosquitto?.url ?? `mqtt://127.0.0.1:${s.info.mqttPort}`, login);
    await ha.ready;
    expect(await granted(ha.client, "homeassistant/#")).toBe(true);
    expect(await granted(ha.client, `opengenie/${s.config.stationId}/#`)).toBe(true);
    for (const type of ["light", "switch", "sensor", "pir", "climate"] as const) {
      const { device, credentials } = await addDevice(s, admin, `HA ${type}`, type);
      ids.set(type, device.id);
      const sim = simFor(credentials, type, { sensorIntervalMs: 60_000 });
      await sim.start();
      sims.set(type, sim);
    }
  });
  afterAll(async () => {
    for (const sim of sims.values()) await sim.stop({ graceful: true }).catch(() => {});
    ha.client.end(true);
    await s.stop().catch(() => {});
    await mosquitto?.stop();
    dir.remove();
  });

  const stateTopic = (type: string) => `opengenie/${s.config.stationId}/device/${ids.get(type)}/state`;
  const availabilityTopic = (type: string) =>
    `opengenie/${s.config.stationId}/device/${ids.get(type)}/availability`;
  const bridgeAvailability = () => `opengenie/${s.config.stationId}/bridge/availability`;
  const configsOf = (type: string) => ha.configs().filter(([t]) => t.includes(`/${ids.get(type)}_`));

  test("every device has configs that fit Home Assistant's schema, with topics that exist", async () => {
    await waitFor(
      () =>
        configsOf("sensor").length >= 2 &&
        configsOf("climate").length >= 1 &&
        ha.latest.get(availabilityTopic("pir")) === "online",
    );
    const components = (type: string) =>
      configsOf(type).map(([t]) => parseConfigTopic("homeassistant", t)!.component);
    expect(components("light")).toContain("light");
    expect(components("switch")).toContain("switch");
    expect(components("pir")).toContain("binary_sensor");
    expect(components("climate")).toContain("climate");
    const sensors = configsOf("sensor").map(([, p]) => JSON.parse(p) as Record<string, unknown>);
    expect(sensors.filter((c) => c.device_class === "temperature")[0]).toMatchObject({
      unit_of_measurement: "°C",
    });
    expect(sensors.filter((c) => c.device_class === "humidity")[0]).toMatchObject({
      unit_of_measurement: "%",
    });
    const uniqueIds = new Set<string>();
    for (const [topic, payload] of ha.configs()) {
      const config = JSON.parse(payload) as Record<string, unknown>;
      expect(discoveryProblems(parseConfigTopic("homeassistant", topic)!.component, config)).toEqual([]);
      expect(uniqueIds.has(config.unique_id as string)).toBe(false);
      uniqueIds.add(config.unique_id as string);
      expect(config.availability_mode).toBe("all");
      // State and availability topics the config names are published (retained) by the station.
      const named = Object.keys(config)
        .filter((k) => k.endsWith("state_topic") || k === "current_temperature_topic")
        .map((k) => config[k] as string);
      await waitFor(() => named.every((t) => ha.latest.has(t)), 5000, `${named.join(", ")} published`);
      const availability = (config.availability as { topic: string }[]).map((a) => a.topic);
      await waitFor(
        () => availability.every((t) => ha.latest.get(t) === "online"),
        5000,
        "availability online",
      );
    }
    const light = JSON.parse(configsOf("light").find(([t]) => t.includes("/light/"))![1]) as {
      device: { identifiers: string[]; via_device: string };
    };
    expect(light.device.identifiers).toContain(ids.get("light")!);
    expect(light.device.via_device).toBe(
      `opengenie_${s.config.stationId.replaceAll(/[^a-zA-Z0-9_-]/g, "_")}`,
    );
    // The station is a device too, with its own availability.
    const station = ha.configs().find(([t]) => t.endsWith("station_devices_online/config"));
    expect(station).toBeDefined();
    await waitFor(() => ha.json(`opengenie/${s.config.stationId}/bridge/state`)?.devices_online === 5);
  });

  test("a command published as Home Assistant does reaches the device, and its new state comes back", async () => {
    const light = JSON.parse(configsOf("light").find(([t]) => t.includes("/light/"))![1]) as {
      command_topic: string;
    };
    const sim = sims.get("light")!;
    await ha.client.publishAsync(light.command_topic, JSON.stringify({ state: "ON", brightness: 40 }), {
      qos: 1,
    });
    await waitFor(() => sim.received.some((r) => r.command.action === "set_brightness"));
    expect(sim.received.map((r) => r.command.action)).toEqual(["turn_on", "set_brightness"]);
    expect(sim.received[1]!.command).toMatchObject({ brightness: 40 });
    expect(sim.received[1]!.command.requestId).toBeString();
    await waitFor(() => ha.json(stateTopic("light"))?.brightness === 40);
    expect(ha.json(stateTopic("light"))).toMatchObject({
      state: "ON",
      brightness: 40,
      color_mode: "brightness",
    });
    // The command is in the device's event log like any other.
    const events = (await (
      await s.api(`/api/devices/${ids.get("light")}/events?limit=100`, { token: admin })
    ).json()) as {
      events: { kind: string; data: { action?: string } }[];
    };
    expect(events.events.some((e) => e.kind === "command" && e.data.action === "set_brightness")).toBe(true);
    // Switch and climate commands too.
    const sw = JSON.parse(configsOf("switch")[0]![1]) as { command_topic: string };
    await ha.client.publishAsync(sw.command_topic, "ON", { qos: 1 });
    await waitFor(() => ha.json(stateTopic("switch"))?.state === "ON");
    const climate = JSON.parse(configsOf("climate").find(([t]) => t.includes("/climate/"))![1]) as {
      temperature_command_topic: string;
    };
    await ha.client.publishAsync(climate.temperature_command_topic, "23.5", { qos: 1 });
    await waitFor(() => ha.json(stateTopic("climate"))?.target_celsius === 23.5);
  });

  test("a state report with new values only sends the state again, not configs, availability or the station's state", async () => {
    const light = JSON.parse(configsOf("light").find(([t]) => t.includes("/light/"))![1]) as {
      command_topic: string;
    };
    const configTopics = configsOf("light").map(([t]) => t);
    const count = (topic: string) => ha.counts.get(topic) ?? 0;
    const before = {
      state: count(stateTopic("light")),
      availability: count(availabilityTopic("light")),
      bridgeState: count(`opengenie/${s.config.stationId}/bridge/state`),
      configs: configTopics.map(count),
    };
    // The bridge publishes one device at a time, in order, on one connection: once the state of
    // the last change is here, whatever it sent for the earlier ones has arrived too.
    for (const brightness of [55, 65, 75, 85]) {
      await ha.client.publishAsync(light.command_topic, JSON.stringify({ brightness }), { qos: 1 });
      await waitFor(() => ha.json(stateTopic("light"))?.brightness === brightness);
    }
    expect(count(stateTopic("light"))).toBeGreaterThanOrEqual(before.state + 3);
    expect(count(availabilityTopic("light"))).toBe(before.availability);
    expect(count(`opengenie/${s.config.stationId}/bridge/state`)).toBe(before.bridgeState);
    expect(configTopics.map(count)).toEqual(before.configs);
  });

  test("a device's last will makes its entities unavailable", async () => {
    await sims.get("pir")!.stop({ graceful: false });
    await waitFor(() => ha.latest.get(availabilityTopic("pir")) === "offline");
    sims.delete("pir");
  });

  test("homeassistant/status online makes the station publish everything again", async () => {
    const topic = configsOf("light")[0]![0];
    const before = ha.counts.get(topic) ?? 0;
    await ha.client.publishAsync("homeassistant/status", "online", { qos: 1 });
    await waitFor(() => (ha.counts.get(topic) ?? 0) > before);
  });

  test("deleting a device clears its configs", async () => {
    const topics = configsOf("switch").map(([t]) => t);
    expect(topics.length).toBeGreaterThan(0);
    await sims.get("switch")!.stop({ graceful: true });
    sims.delete("switch");
    const res = await s.api(`/api/devices/${ids.get("switch")}`, { method: "DELETE", token: admin });
    expect(res.status).toBeLessThan(300);
    await waitFor(() => topics.every((t) => ha.latest.get(t) === ""));
  });

  onlyWhen(mode === "embedded")(
    "the integration login cannot reach device topics or another station",
    async () => {
      const light = ids.get("light")!;
      const sid = s.config.stationId;
      for (const filter of [
        `station/${sid}/#`,
        `station/${sid}/device/${light}/command`,
        "station/st-other/#",
        "opengenie/st-other/#",
        "#",
      ])
        expect(await granted(ha.client, filter)).toBe(false);
      const sim = sims.get("light")!;
      const seen = sim.received.length;
      // A forged device command, then a legitimate one: only the legitimate one arrives.
      await ha.client.publishAsync(
        `station/${sid}/device/${light}/command`,
        JSON.stringify({ action: "turn_off", requestId: "forged" }),
        { qos: 1 },
      );
      await ha.client.publishAsync(
        `opengenie/${sid}/device/${light}/set`,
        JSON.stringify({ brightness: 55 }),
        { qos: 1 },
      );
      await waitFor(() => sim.received.length > seen);
      expect(sim.received.slice(seen).map((r) => r.command.requestId)).not.toContain("forged");
      // Nor can it announce configs itself, or fake a device's availability.
      await ha.client.publishAsync(availabilityTopic("light"), "offline", { qos: 1, retain: true });
      await ha.client.publishAsync("homeassistant/status", "online", { qos: 1 });
      await waitFor(() => ha.latest.get(availabilityTopic("light")) === "online");
    },
  );

  test("the station's stop makes everything unavailable; a restart keeps unique ids and clears configs of devices gone", async () => {
    const lightConfig = configsOf("light").find(([t]) => t.includes("/light/"))!;
    await waitFor(() => ha.latest.get(bridgeAvailability()) === "online");
    await s.stop();
    // Embedded: said before the broker closes the connection; Mosquitto: retained.
    await waitFor(() => ha.latest.get(bridgeAvailability()) === "offline");
    // While stopped, the sensor is deleted from the database (as a restore of an older backup would).
    const db = new Database(join(dir.path, "opengenie.db"));
    db.run("DELETE FROM device_state WHERE device_id = ?", [ids.get("sensor")!]);
    db.run("DELETE FROM devices WHERE id = ?", [ids.get("sensor")!]);
    db.close();
    const sensorTopics = configsOf("sensor").map(([t]) => t);
    s = await startTestStation({ dataDir: dir.path, env: env() });
    if (mode === "embedded") {
      // A new broker on a new port: Home Assistant logs in again with the same stored login.
      ha.client.end(true);
      ha = playHomeAssistant(`mqtt://127.0.0.1:${s.info.mqttPort}`, login);
      await ha.ready;
      await ha.client.subscribeAsync(["homeassistant/#", `opengenie/${s.config.stationId}/#`], { qos: 1 });
    }
    await waitFor(() => ha.latest.get(bridgeAvailability()) === "online");
    await waitFor(() => ha.latest.has(lightConfig[0]));
    const again = JSON.parse(ha.latest.get(lightConfig[0])!) as { unique_id: string };
    expect(again.unique_id).toBe((JSON.parse(lightConfig[1]) as { unique_id: string }).unique_id);
    // The embedded broker kept no retained config over the restart; Mosquitto did, and it is cleared.
    if (mode === "mosquitto") await waitFor(() => sensorTopics.every((t) => ha.latest.get(t) === ""));
    else expect(sensorTopics.some((t) => ha.latest.get(t))).toBe(false);
  });

  onlyWhen(mode === "mosquitto")(
    "a station that dies leaves its last will: the bridge goes offline",
    async () => {
      await s.stop();
      const spawned = await spawnStation(dir.path, {
        args: [],
        env: {
          OPENGENIE_HOST: "127.0.0.1",
          OPENGENIE_PORT: "0",
          OPENGENIE_MQTT_URL: mosquitto!.url,
          OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
        },
      });
      try {
        await waitFor(() => ha.latest.get(bridgeAvailability()) === "online");
        spawned.proc.kill("SIGKILL");
        await spawned.proc.exited;
        await waitFor(() => ha.latest.get(bridgeAvailability()) === "offline", 10_000, "the will");
      } finally {
        spawned.proc.kill("SIGKILL");
      }
      s = await startTestStation({ dataDir: dir.path, env: env() });
    },
  );
});
