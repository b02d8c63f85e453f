/**
 * The embedded broker's MQTT 3.1.1 behaviour that MQTT.js hides: packet order around CONNECT,
 * protocol violations, QoS 2, persistent-session resends, takeover, keep-alive, retained
 * messages and a client that does not read. Real broker on a free port, raw sockets.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Packet } from "mqtt-packet";
import { createBunPlatform } from "../platform/index.ts";
import { MAX_WRITE_BACKLOG_BYTES } from "./broker-connection.ts";
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
import { connectAs, type RawPeer, rawPeer } from "./raw-mqtt-peer.ts";

const topic = (deviceId: string, suffix: Parameters<typeof deviceTopic>[2]) =>
  deviceTopic(STATION_ID, deviceId, suffix);

let h: MqttHarness;
const peers: RawPeer[] = [];
beforeEach(async () => {
  h = await createMqttHarness(createBunPlatform().listenTcp);
});
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.end();
  await h.close();
});

/** The station's in-process side, subscribed to every device topic, recording what it gets. */
async function stationListening() {
  const station = await stationSide(h.broker);
  await station.subscribe([`station/${STATION_ID}/device/+/#`]);
  return { station, seen: recordMessages(station) };
}

async function peer(): Promise<RawPeer> {
  const p = await rawPeer(h.port);
  peers.push(p);
  return p;
}

/** lamp1 connected on a raw socket (CONNACK 0 read). */
async function lamp1(extra: Parameters<typeof connectAs>[3] = {}, clientId = "lamp1"): Promise<RawPeer> {
  const p = await peer();
  p.send(connectAs(clientId, "lamp1", DEVICE_PASSWORDS.lamp1, extra));
  expect((await p.next("connack")).returnCode).toBe(0);
  return p;
}

const publish = (t: string, payload: string, qos: 0 | 1 | 2, messageId?: number, dup = false): Packet =>
  ({ cmd: "publish", topic: t, payload: Buffer.from(payload), qos, retain: false, dup, messageId }) as Packet;

describe("embedded broker: around CONNECT", () => {
  test("packets sent with the CONNECT, before its CONNACK, are handled after it, in order", async () => {
    const { seen } = await stationListening();
    const p = await peer();
    p.send(
      connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1),
      { cmd: "subscribe", messageId: 1, subscriptions: [{ topic: topic("lamp1", "command"), qos: 1 }] },
      publish(topic("lamp1", "state"), '{"n":1}', 1, 2),
      publish(topic("lamp1", "state"), '{"n":2}', 1, 3),
    );
    expect((await p.next("connack")).returnCode).toBe(0);
    expect((await p.next("suback")).granted).toEqual([1]);
    expect((await p.next("puback")).messageId).toBe(2);
    expect((await p.next("puback")).messageId).toBe(3);
    await waitFor(() => seen.length === 2);
    expect(seen.map((m) => m.payload)).toEqual(['{"n":1}', '{"n":2}']);
    expect(p.received.map((x) => x.cmd)).toEqual(["connack", "suback", "puback", "puback"]);
  });

  test("a first packet that is not CONNECT, or a second CONNECT, closes the connection", async () => {
    const first = await peer();
    first.send({ cmd: "pingreq" });
    await first.closed;
    const twice = await lamp1();
    twice.send(connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1));
    await twice.closed;
    expect(twice.received.map((x) => x.cmd)).toEqual(["connack"]);
  });

  test("MQTT 5 is answered 'unacceptable protocol version'; MQTT 3.1 (MQIsdp) connects", async () => {
    const v5 = await peer();
    v5.send(connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1, { protocolVersion: 5 }));
    expect((await v5.next("connack")).returnCode).toBe(1);
    await v5.closed;
    const v3 = await peer();
    v3.send(
      connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1, { protocolId: "MQIsdp", protocolVersion: 3 }),
    );
    expect((await v3.next("connack")).returnCode).toBe(0);
  });

  test("a connection closed while its credential is checked leaves no client behind", async () => {
    const p = await peer();
    p.send(connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1));
    p.end();
    await p.closed;
    await Bun.sleep(50);
    expect(h.broker.stats().connectedClients).toBe(0);
    // The client id is free again: the same device connects.
    await lamp1();
    expect(h.broker.stats().connectedClients).toBe(1);
  });
});

describe("embedded broker: protocol", () => {
  test("a PUBLISH to a topic with a wildcard closes the connection and reaches nobody", async () => {
    const { seen } = await stationListening();
    const p = await lamp1();
    p.send(publish("station/st1/device/+/state", "{}", 1, 1));
    await p.closed;
    expect(seen).toEqual([]);
  });

  test("QoS 2 in: PUBREC, PUBREL, PUBCOMP; a resent PUBLISH before PUBREL is delivered once", async () => {
    const { seen } = await stationListening();
    const p = await lamp1();
    p.send(publish(topic("lamp1", "state"), '{"q":2}', 2, 7));
    expect((await p.next("pubrec")).messageId).toBe(7);
    p.send(publish(topic("lamp1", "state"), '{"q":2}', 2, 7, true));
    expect((await p.next("pubrec")).messageId).toBe(7);
    p.send({ cmd: "pubrel", messageId: 7 });
    expect((await p.next("pubcomp")).messageId).toBe(7);
    // The id is free again: a new message with it is delivered.
    p.send(publish(topic("lamp1", "state"), '{"q":"again"}', 2, 7));
    await p.next("pubrec");
    await waitFor(() => seen.length === 2);
    expect(seen.map((m) => m.payload)).toEqual(['{"q":2}', '{"q":"again"}']);
  });

  test("a QoS 2 subscription is granted QoS 1; UNSUBSCRIBE stops delivery", async () => {
    const station = await stationSide(h.broker);
    const p = await lamp1();
    p.send({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: topic("lamp1", "command"), qos: 2 }] });
    expect((await p.next("suback")).granted).toEqual([1]);
    await station.publish(topic("lamp1", "command"), '{"requestId":"a"}', { qos: 1 });
    const first = await p.next("publish");
    expect({ qos: first.qos, payload: first.payload.toString() }).toEqual({
      qos: 1,
      payload: '{"requestId":"a"}',
    });
    p.send({ cmd: "unsubscribe", messageId: 4, unsubscriptions: [topic("lamp1", "command")] });
    expect((await p.next("unsuback")).messageId).toBe(4);
    await station.publish(topic("lamp1", "command"), '{"requestId":"b"}', { qos: 1 });
    p.send({ cmd: "pingreq" });
    await p.next("pingresp");
    expect(p.received.filter((x) => x.cmd === "publish")).toHaveLength(1);
  });

  test("retained: a later subscriber gets the latest with RETAIN set, live ones without; empty deletes", async () => {
    const station = await stationSide(h.broker);
    const command = topic("lamp1", "command");
    await station.publish(command, '{"v":1}', { qos: 1, retain: true });
    await station.publish(command, '{"v":2}', { qos: 1, retain: true });
    const p = await lamp1();
    p.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: command, qos: 1 }] });
    await p.next("suback");
    const stored = await p.next("publish");
    expect({ retain: stored.retain, payload: stored.payload.toString() }).toEqual({
      retain: true,
      payload: '{"v":2}',
    });
    p.send({ cmd: "puback", messageId: stored.messageId! });
    await station.publish(command, '{"v":3}', { qos: 1, retain: true });
    const live = await p.next("publish");
    expect({ retain: live.retain, payload: live.payload.toString() }).toEqual({
      retain: false,
      payload: '{"v":3}',
    });
    await station.publish(command, "", { qos: 1, retain: true });
    await p.next("publish");
    const later = await lamp1({}, "lamp1-later");
    later.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: command, qos: 1 }] });
    await later.next("suback");
    later.send({ cmd: "pingreq" });
    await later.next("pingresp");
    expect(later.received.filter((x) => x.cmd === "publish")).toEqual([]);
  });
});

describe("embedded broker: sessions", () => {
  test("a persistent session resends what was not acknowledged, same id, DUP set", async () => {
    const station = await stationSide(h.broker);
    const command = topic("lamp1", "command");
    const first = await lamp1({ clean: false });
    first.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: command, qos: 1 }] });
    await first.next("suback");
    await station.publish(command, '{"requestId":"r1"}', { qos: 1 });
    const sent = await first.next("publish");
    expect(sent.dup).toBe(false);
    first.end(); // never acknowledged
    await first.closed;
    await waitFor(() => h.broker.stats().connectedClients === 0);
    await station.publish(command, '{"requestId":"r2"}', { qos: 1 });

    const again = await peer();
    again.send(connectAs("lamp1", "lamp1", DEVICE_PASSWORDS.lamp1, { clean: false }));
    expect((await again.next("connack")).sessionPresent).toBe(true);
    const resent = await again.next("publish");
    const queued = await again.next("publish");
    expect({ id: resent.messageId, dup: resent.dup, payload: resent.payload.toString() }).toEqual({
      id: sent.messageId,
      dup: true,
      payload: '{"requestId":"r1"}',
    });
    expect({ dup: queued.dup, payload: queued.payload.toString() }).toEqual({
      dup: false,
      payload: '{"requestId":"r2"}',
    });
    again.send(
      { cmd: "puback", messageId: resent.messageId! },
      { cmd: "puback", messageId: queued.messageId! },
    );
    await waitFor(() => h.broker.stats().queuedMessages === 0);
  });

  test("a second connection with the same client id takes over: the first is closed, its will sent", async () => {
    const { seen } = await stationListening();
    const first = await lamp1({
      will: {
        topic: topic("lamp1", "heartbeat"),
        payload: Buffer.from('{"status":"offline"}'),
        qos: 1,
        retain: false,
      },
    });
    const second = await lamp1();
    await first.closed;
    await waitFor(() => seen.length === 1);
    expect(seen[0]!.payload).toBe('{"status":"offline"}');
    second.send({ cmd: "pingreq" });
    await second.next("pingresp");
    expect(h.broker.stats().connectedClients).toBe(1);
  });

  test("a client silent past 1.5 × its keep-alive is disconnected and its will sent; DISCONNECT sends none", async () => {
    const { seen } = await stationListening();
    const will = (id: string) => ({
      topic: topic("lamp1", "heartbeat"),
      payload: Buffer.from(`{"status":"offline","id":"${id}"}`),
      qos: 1 as const,
      retain: false,
    });
    const polite = await lamp1({ will: will("polite") }, "lamp1-polite");
    polite.send({ cmd: "disconnect" });
    await polite.closed;
    const silent = await lamp1({ keepalive: 1, will: will("silent") }, "lamp1-silent");
    await silent.closed;
    await waitFor(() => seen.length === 1);
    expect(JSON.parse(seen[0]!.payload)).toEqual({ status: "offline", id: "silent" });
  });
});

describe("embedded broker: a client that does not read", () => {
  test("is disconnected once more than the write backlog waits for it; the broker stays up", async () => {
    const station = await stationSide(h.broker);
    const command = topic("lamp1", "command");
    const reader = await lamp1();
    reader.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: command, qos: 0 }] });
    await reader.next("suback");
    reader.socket.pause(); // reads nothing more: the kernel buffers fill, then ours
    const payload = "x".repeat(60 * 1024);
    let sent = 0;
    // Loopback buffers take several MiB before the broker has to queue anything.
    while (sent < 64 * 1024 * 1024 && h.broker.stats().connectedClients > 0) {
      await station.publish(command, payload, { qos: 0 });
      sent += payload.length;
      if (sent % (4 * 1024 * 1024) < payload.length) await Bun.sleep(1);
    }
    expect(h.broker.stats().connectedClients).toBe(0);
    expect(sent).toBeGreaterThan(MAX_WRITE_BACKLOG_BYTES);
    const other = await lamp1({}, "lamp1-other");
    other.send({ cmd: "pingreq" });
    await other.next("pingresp");
  });
});
