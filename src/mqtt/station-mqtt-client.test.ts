import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createManualClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import {
  createExternalMqttHarness,
  type MqttHarness,
  nextMessage,
  STATION_ID,
  STATION_LOGIN,
  type TestBroker,
  waitFor,
} from "./mqtt-test-harness.ts";
import { deviceTopic, deviceToStationFilters } from "./mqtt-topics.ts";
import { createStationMqttClient, type StationMqttClient } from "./station-mqtt-client.ts";

// An external broker, as the station meets one with --mqtt-url (the embedded one has no station login).
let h: MqttHarness<TestBroker>;
const started: StationMqttClient[] = [];

beforeEach(async () => {
  h = await createExternalMqttHarness();
});
afterEach(async () => {
  for (const client of started.splice(0)) await client.stop();
  await h.close();
});

function stationClient(
  clientId = "station-main",
  url = `mqtt://${STATION_LOGIN.username}:${STATION_LOGIN.password}@127.0.0.1:${h.port}`,
) {
  const client = createStationMqttClient({ url, clientId, logger: h.logger });
  started.push(client);
  return client;
}

/** Resolves with the next payload the station client receives on `topic`. */
function nextStationMessage(client: StationMqttClient, topic: string): Promise<string> {
  return new Promise((resolve) => {
    const off = client.onMessage((received, payload) => {
      if (received !== topic) return;
      off();
      resolve(payload.toString());
    });
  });
}

const stateTopic = deviceTopic(STATION_ID, "lamp1", "state");

describe("station MQTT client", () => {
  test("connects with credentials from the URL, receives device messages and commands reach the device", async () => {
    const client = stationClient();
    const statuses: boolean[] = [];
    client.onStatus((connected) => statuses.push(connected));
    await client.start();
    expect(client.connected).toBe(true);
    expect(statuses).toEqual([true]);
    await client.subscribe(deviceToStationFilters(STATION_ID));

    const lamp = await h.connectDevice("lamp1");
    await lamp.subscribeAsync(deviceTopic(STATION_ID, "lamp1", "command"), { qos: 1 });
    const state = nextStationMessage(client, stateTopic);
    await lamp.publishAsync(stateTopic, '{"state":{"on":true}}', { qos: 1 });
    expect(JSON.parse(await state)).toEqual({ state: { on: true } });

    const command = nextMessage(lamp, deviceTopic(STATION_ID, "lamp1", "command"));
    await client.publish(deviceTopic(STATION_ID, "lamp1", "command"), { action: "turn_on", requestId: "r1" });
    expect(JSON.parse(await command)).toEqual({ action: "turn_on", requestId: "r1" });
  });

  test("reconnects after the broker restarts on the same port and resubscribes", async () => {
    const client = stationClient();
    const statuses: boolean[] = [];
    client.onStatus((connected) => statuses.push(connected));
    await client.start();
    await client.subscribe(deviceToStationFilters(STATION_ID));

    await h.broker.stop(); // the in-memory session is gone with it, so resubscribing is required
    await waitFor(() => !client.connected);
    await h.startBroker(h.port);
    await waitFor(() => client.connected, 5000);
    expect(statuses).toEqual([true, false, true]);

    await waitFor(() => h.logger.lines.filter((l) => l.includes('"mqtt subscribed"')).length === 2);
    const lamp = await h.connectDevice("lamp1");
    const state = nextStationMessage(client, stateTopic);
    await lamp.publishAsync(stateTopic, '{"state":{"on":false}}', { qos: 1 });
    expect(await state).toBe('{"state":{"on":false}}');
  });

  test("QoS 1 messages sent while the station is away are delivered when it comes back", async () => {
    const first = stationClient();
    await first.start();
    await first.subscribe(deviceToStationFilters(STATION_ID));
    await first.stop();

    const lamp = await h.connectDevice("lamp1");
    await lamp.publishAsync(stateTopic, '{"state":{"queued":true}}', { qos: 1 });

    const second = stationClient();
    const queued = nextStationMessage(second, stateTopic);
    await second.start();
    expect(await queued).toBe('{"state":{"queued":true}}');
  });

  test("a refused subscription rejects with the topic named", async () => {
    const client = stationClient("lamp1", `mqtt://lamp1:pw-lamp1@127.0.0.1:${h.port}`);
    await client.start();
    await expect(client.subscribe([deviceTopic(STATION_ID, "lamp2", "command")])).rejects.toThrow(
      "lamp2/command",
    );
  });

  test("start() rejects after its timeout, naming the URL but not the password", async () => {
    const clock = createManualClock();
    const client = createStationMqttClient({
      url: "mqtt://user:hunter2@127.0.0.1:1",
      clientId: "station-main",
      logger: createMemoryLogger(),
      clock,
      connectTimeoutMs: 3000,
    });
    const result = client.start().catch((e: Error) => e);
    clock.advance(3000);
    const error = await result;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("mqtt://127.0.0.1:1");
    expect((error as Error).message).not.toContain("hunter2");
    expect(client.connected).toBe(false);
  });
});

describe("deferred acks", () => {
  function deferringClient() {
    const client = createStationMqttClient({
      url: `mqtt://${STATION_LOGIN.username}:${STATION_LOGIN.password}@127.0.0.1:${h.port}`,
      clientId: "station-defer",
      logger: h.logger,
      deferAcks: true,
    });
    started.push(client);
    return client;
  }

  test("a QoS 1 PUBACK waits for the handler's promise: unsettled at a stop, the broker sends it again", async () => {
    const first = deferringClient();
    const releases: (() => void)[] = [];
    first.onMessage(() => new Promise<void>((resolve) => releases.push(resolve)));
    await first.start();
    await first.subscribe(deviceToStationFilters(STATION_ID));
    const device = await h.connectDevice("lamp1");
    const topic = deviceTopic(STATION_ID, "lamp1", "state");
    await device.publishAsync(topic, "stored", { qos: 1 });
    await device.publishAsync(topic, "not stored", { qos: 1 });
    // Both reach the handler although the first is not acknowledged: the socket is still read.
    await waitFor(() => releases.length === 2);
    releases[0]!();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.stop();
    const again = deferringClient();
    const redelivered: { payload: string; redelivered: boolean }[] = [];
    again.onMessage((_, payload, info) => {
      redelivered.push({ payload: payload.toString(), redelivered: info.redelivered });
    });
    await again.start();
    await waitFor(() => redelivered.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // (aedes does not set DUP on it; Mosquitto does, tests/cluster-faults.test.ts.)
    expect(redelivered.map((m) => m.payload)).toEqual(["not stored"]);
  });

  test("start() refuses, naming the cause, if MQTT.js no longer sends PUBACKs through _sendPacket", async () => {
    const { MqttClient } = await import("mqtt");
    const proto = MqttClient.prototype as unknown as { _sendPacket: unknown };
    const original = proto._sendPacket;
    proto._sendPacket = undefined;
    try {
      await expect(deferringClient().start()).rejects.toThrow(/_sendPacket/);
    } finally {
      proto._sendPacket = original;
    }
  });
});
