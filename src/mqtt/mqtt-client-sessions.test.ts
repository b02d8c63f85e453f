/**
 * Issue 9, finding 4: every `<deviceId>-<random>` client id with a persistent session left a
 * stored session queuing every command for the device. Real broker, real MQTT clients.
 */

import { afterEach, beforeEach, expect, test } from "bun:test";
import mqtt, { type IConnackPacket, type MqttClient } from "mqtt";
import { createBunPlatform } from "../platform/index.ts";
import { MAX_QUEUED_MESSAGES_PER_CLIENT, MAX_STORED_SESSIONS_PER_DEVICE } from "./mqtt-client-sessions.ts";
import {
  createMqttHarness,
  DEVICE_PASSWORDS,
  type MqttHarness,
  recordMessages,
  STATION_ID,
  stationSide,
  waitFor,
} from "./mqtt-test-harness.ts";
import { deviceTopic } from "./mqtt-topics.ts";

const command = deviceTopic(STATION_ID, "lamp1", "command");

let h: MqttHarness;
const opened: MqttClient[] = [];
const stopAfter: (() => Promise<void>)[] = [];
beforeEach(async () => {
  h = await createMqttHarness(createBunPlatform().listenTcp);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.endAsync(true)));
  for (const stop of stopAfter.splice(0)) await stop();
  await h.close();
});

/** lamp1 with a persistent session (clean: false) under `clientId`; records what it receives. */
async function persistentSession(clientId: string) {
  const client = mqtt.connect(`mqtt://127.0.0.1:${h.port}`, {
    clientId,
    username: "lamp1",
    password: DEVICE_PASSWORDS.lamp1,
    clean: false,
    reconnectPeriod: 0,
  });
  opened.push(client);
  // Queued messages arrive right after CONNACK, so listen before it.
  const received = recordMessages(client);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  return { client, received, sessionPresent: connack.sessionPresent };
}

/** The station's own in-process client, publishing as the station does. */
async function stationPublisher() {
  const side = await stationSide(h.broker);
  stopAfter.push(() => side.stop());
  return {
    publishAsync: (topic: string, payload: string, options: { qos: 0 | 1 }) =>
      side.publish(topic, payload, options),
  };
}

const requestIds = (messages: { payload: string }[]) =>
  messages.map((m) => (JSON.parse(m.payload) as { requestId: string }).requestId);

test("a device keeps at most 8 stored sessions, the oldest evicted, and each queue is bounded", async () => {
  for (let i = 1; i <= 20; i++) {
    const { client } = await persistentSession(`lamp1-s${i}`);
    await client.subscribeAsync(command, { qos: 1 });
    await client.endAsync();
  }
  const station = await stationPublisher();
  for (let n = 1; n <= 300; n++) {
    await station.publishAsync(command, JSON.stringify({ action: "reboot", requestId: `r${n}` }), { qos: 1 });
  }

  // The oldest session is gone: no session on reconnect, none of the 300 commands.
  const oldest = await persistentSession("lamp1-s1");
  expect(oldest.sessionPresent).toBe(false);
  await oldest.client.subscribeAsync(command, { qos: 1 });
  await station.publishAsync(command, JSON.stringify({ action: "reboot", requestId: "after" }), { qos: 1 });
  await waitFor(() => oldest.received.length > 0);
  expect(requestIds(oldest.received)).toEqual(["after"]);
  await oldest.client.endAsync();

  // The newest resumes with its queue: the latest 100 of the 301 commands, in order.
  const newest = await persistentSession("lamp1-s20");
  expect(newest.sessionPresent).toBe(true);
  await waitFor(() => newest.received.length >= MAX_QUEUED_MESSAGES_PER_CLIENT);
  const latest = Array.from({ length: MAX_QUEUED_MESSAGES_PER_CLIENT - 1 }, (_, i) => `r${202 + i}`);
  expect(requestIds(newest.received)).toEqual([...latest, "after"]);

  const stats = h.broker.stats();
  expect(stats.storedSessions).toBe(MAX_STORED_SESSIONS_PER_DEVICE);
  // s1's new session pushed out one more (s13): 12 + 1 evicted. Each of the 8 queues dropped
  // the first 200 commands; "after" went to s1 live and pushed one more out of s14…s20.
  expect(stats.evictedSessions).toBe(13);
  expect(stats.droppedQueuedMessages).toBe(MAX_STORED_SESSIONS_PER_DEVICE * 200 + 7);
  // s14…s19 still hold theirs; s20's and s1's are acknowledged and cleared.
  await waitFor(() => h.broker.stats().queuedMessages === 6 * MAX_QUEUED_MESSAGES_PER_CLIENT);
});

test("a refused wildcard is not kept in a device's stored session, so it queues nothing", async () => {
  const { client } = await persistentSession("lamp1-wild");
  const granted = await client
    .subscribeAsync([command, "#"], { qos: 1 })
    .then(() => [] as number[])
    .catch((e: Error & { packet: { granted: number[] } }) => e.packet.granted);
  expect(granted).toEqual([1, 128]);
  await client.endAsync();

  const station = await stationPublisher();
  for (let n = 1; n <= 20; n++) {
    await station.publishAsync(deviceTopic(STATION_ID, "lamp2", "command"), `{"requestId":"x${n}"}`, {
      qos: 1,
    });
  }
  await station.publishAsync(command, JSON.stringify({ action: "reboot", requestId: "own" }), { qos: 1 });
  expect(h.broker.stats().queuedMessages).toBe(1);
  const again = await persistentSession("lamp1-wild");
  expect(again.sessionPresent).toBe(true);
  await waitFor(() => again.received.length > 0);
  expect(requestIds(again.received)).toEqual(["own"]);
});

test("a deleted device's stored sessions and queued commands are dropped with it", async () => {
  for (const clientId of ["lamp1", "lamp1-ota"]) {
    const { client } = await persistentSession(clientId);
    await client.subscribeAsync(command, { qos: 1 });
    await client.endAsync();
  }
  const station = await stationPublisher();
  await station.publishAsync(command, JSON.stringify({ action: "reboot", requestId: "r1" }), { qos: 1 });
  expect(h.broker.stats()).toMatchObject({ storedSessions: 2, queuedMessages: 2 });
  h.broker.disconnectDevice("lamp1");
  expect(h.broker.stats()).toMatchObject({ storedSessions: 0, queuedMessages: 0 });
});
