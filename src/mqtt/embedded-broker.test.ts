import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import type { MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { createBunPlatform, type Platform } from "../platform/index.ts";
import { listenNodeTcp } from "../platform/node-tcp.ts";
import { createEmbeddedBroker } from "./embedded-broker.ts";
import {
  createMqttHarness,
  type MqttHarness,
  nextMessage,
  recordMessages,
  STATION_ID,
  stationSide,
  waitFor,
} from "./mqtt-test-harness.ts";
import { deviceTopic } from "./mqtt-topics.ts";

const topic = (deviceId: string, suffix: Parameters<typeof deviceTopic>[2]) =>
  deviceTopic(STATION_ID, deviceId, suffix);

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once("close", () => resolve()));
}

let h: MqttHarness;
beforeEach(async () => {
  h = await createMqttHarness(createBunPlatform().listenTcp);
});
afterEach(async () => {
  await h.close();
});

describe("embedded broker: CONNECT", () => {
  test("a device with its credential connects, with its id or `<id>-<suffix>` as client id", async () => {
    const first = await h.connectDevice("lamp1");
    const second = await h.connectDevice("lamp1", { clientId: "lamp1-ota" });
    expect(first.connected && second.connected).toBe(true);
  });

  test("a wrong password is refused with 'bad username or password'", async () => {
    const error = await h
      .connectDevice("lamp1", { password: "nope" })
      .catch((e: Error & { code?: number }) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: number }).code).toBe(4);
    expect(h.broker.stats().refusedConnects).toBe(1);
  });

  test("a client id that is not the device's is refused, even with a valid credential", async () => {
    for (const clientId of ["lamp2", "lamp1x", "lamp1-", "mqttjs_123"]) {
      const error = await h.connectDevice("lamp1", { clientId }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
    }
    expect(h.broker.stats().refusals).toEqual([{ kind: "connect", reason: "client_id", count: 4 }]);
  });

  test("no username is refused, and so is every login that is not a device's", async () => {
    expect(await h.connect({ clientId: "x" }).catch((e: Error) => e)).toBeInstanceOf(Error);
    for (const username of ["$opengenie-station", "opengenie", "station"]) {
      const refused = await h
        .connect({ clientId: username, username, password: "anything" })
        .catch((e: Error & { code?: number }) => e);
      expect((refused as { code?: number }).code).toBe(4);
    }
    expect(h.broker.stats().refusals).toEqual([{ kind: "connect", reason: "bad_credentials", count: 4 }]);
  });
});

describe("embedded broker: device ACL", () => {
  test("a device's own publish reaches the station; one into another device's topics does not", async () => {
    const station = await stationSide(h.broker);
    await station.subscribe(["station/st1/device/+/#"]);
    const seen = recordMessages(station);
    const lamp1 = await h.connectDevice("lamp1");

    await lamp1.publishAsync(topic("lamp2", "state"), '{"state":{"on":true}}', { qos: 1 });
    await lamp1.publishAsync("station/st1/device/lamp1/other", "{}", { qos: 1 });
    const own = nextMessage(station, topic("lamp1", "state"));
    await lamp1.publishAsync(topic("lamp1", "state"), '{"state":{"on":false}}', { qos: 1 });
    expect(await own).toBe('{"state":{"on":false}}');

    // The refused messages were sent first on the same connection, so they would have arrived first.
    expect(seen.map((m) => m.topic)).toEqual([topic("lamp1", "state")]);
    expect(h.broker.stats().refusedPublishes).toBe(2);
    expect(lamp1.connected).toBe(true); // refused, acknowledged, not kicked (no resend loop)
  });

  test("subscribing to another device's command, or to a wildcard, gets SUBACK 0x80 and nothing", async () => {
    const station = await stationSide(h.broker);
    const lamp1 = await h.connectDevice("lamp1");
    const seen = recordMessages(lamp1);
    const requested = [
      topic("lamp2", "command"),
      "station/st1/device/+/command",
      "#",
      topic("lamp1", "command"),
    ];
    // MQTT.js 5 rejects a SUBSCRIBE with any 0x80 grant, handing over the SUBACK on the error.
    const granted = await lamp1
      .subscribeAsync(requested, { qos: 1 })
      .then(() => [] as number[])
      .catch((e: Error & { packet: { granted: number[] } }) => e.packet.granted);
    expect(granted).toEqual([128, 128, 128, 1]);

    const own = nextMessage(lamp1, topic("lamp1", "command"));
    await station.publish(topic("lamp2", "command"), '{"action":"on","requestId":"r1"}', { qos: 1 });
    await station.publish(topic("lamp1", "command"), '{"action":"on","requestId":"r2"}', { qos: 1 });
    expect(await own).toContain("r2");
    expect(seen.map((m) => m.topic)).toEqual([topic("lamp1", "command")]);
    expect(h.broker.stats().refusedSubscribes).toBe(3);
  });

  test("disconnectDevice closes every connection of that device and no other", async () => {
    const a = await h.connectDevice("lamp1");
    const b = await h.connectDevice("lamp1", { clientId: "lamp1-2" });
    const other = await h.connectDevice("lamp2");
    const bothClosed = Promise.all([closed(a), closed(b)]);
    h.broker.disconnectDevice("lamp1");
    await bothClosed;
    expect(other.connected).toBe(true);
  });

  test("a device's last will reaches the station; a will into another device's topic does not", async () => {
    const station = await stationSide(h.broker);
    await station.subscribe(["station/st1/device/+/heartbeat"]);
    const seen = recordMessages(station);
    const offline = '{"status":"offline"}';
    const rogue = await h.connectDevice("lamp1", {
      will: { topic: topic("lamp2", "heartbeat"), payload: Buffer.from(offline), qos: 1, retain: false },
    });
    const honest = await h.connectDevice("lamp2", {
      will: { topic: topic("lamp2", "heartbeat"), payload: Buffer.from(offline), qos: 1, retain: false },
    });

    rogue.stream.destroy(); // an abrupt loss, not a DISCONNECT, is what fires a will
    await waitFor(() => h.broker.stats().refusedPublishes === 1);
    const will = nextMessage(station, topic("lamp2", "heartbeat"));
    honest.stream.destroy();
    expect(await will).toBe(offline);
    expect(seen).toHaveLength(1);
    expect(h.broker.stats().refusedPublishes).toBe(1);
  });
});

describe("embedded broker: memory", () => {
  test("no 65,536-buffer message-id cache; PUBACKs still carry each packet's own id", async () => {
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    const lamp1 = await h.connectDevice("lamp1");
    // Ids 1…300 cross a byte boundary: a wrong high or low byte would leave a publish unacked.
    const acks = Array.from({ length: 300 }, (_, i) =>
      lamp1.publishAsync(topic("lamp1", "state"), `{"state":{"seq":${i}}}`, { qos: 1 }),
    );
    expect((await Promise.all(acks)).length).toBe(300);
  });
});

/**
 * node:net as Deno's behaves: a write is queued and sent on a later turn, and `destroy` drops
 * what is still queued (Bun's node:net sends at once, which would hide a close that drops it).
 */
const listenWithLateWrites: Platform["listenTcp"] = (options, accept) =>
  listenNodeTcp(options, (connection) => {
    let queued: Uint8Array[] = [];
    let ending = false;
    const flush = () => {
      for (const chunk of queued) connection.write(chunk);
      queued = [];
      if (ending) connection.end();
    };
    return accept({
      get remoteAddress() {
        return connection.remoteAddress;
      },
      write(chunk) {
        if (queued.length === 0) setImmediate(flush);
        queued.push(chunk);
        return true;
      },
      pause: () => connection.pause(),
      resume: () => connection.resume(),
      end() {
        ending = true;
        setImmediate(flush);
      },
      destroy() {
        queued = [];
        connection.destroy();
      },
    });
  });

describe("embedded broker: lifecycle", () => {
  test("a busy port rejects with code EADDRINUSE", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const broker = createEmbeddedBroker({
      host: "127.0.0.1",
      port,
      listenTcp: createBunPlatform().listenTcp,
      logger: h.logger,
      stationId: STATION_ID,
      authenticateDevice: async () => false,
    });
    try {
      const error = await broker.start().catch((e: NodeJS.ErrnoException) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test("stop() with devices connected returns on node:net too (Deno's TCP server), closing them", async () => {
    const onNodeNet = await createMqttHarness(listenNodeTcp);
    try {
      const lamp = await onNodeNet.connectDevice("lamp1");
      const gone = closed(lamp);
      // node:net's server.close() waits for open connections: stop() must close them itself.
      await onNodeNet.broker.stop();
      await gone;
      expect(onNodeNet.broker.stats().connectedClients).toBe(0);
    } finally {
      await onNodeNet.close();
    }
  });

  test("with writes that complete later (node:net on Deno), a refusal's CONNACK and a message published just before stop() still arrive", async () => {
    const onNodeNet = await createMqttHarness(listenWithLateWrites);
    try {
      // A close that dropped queued writes would lose both.
      const refused = await onNodeNet
        .connect({ clientId: "lamp1", username: "lamp1", password: "wrong" })
        .catch((e: Error & { code?: number }) => e);
      expect((refused as { code?: number }).code).toBe(4);

      const lamp = await onNodeNet.connectDevice("lamp1");
      await lamp.subscribeAsync(topic("lamp1", "command"), { qos: 1 });
      const station = await stationSide(onNodeNet.broker);
      const received = nextMessage(lamp, topic("lamp1", "command"));
      await station.publish(topic("lamp1", "command"), '{"requestId":"last"}', { qos: 1 });
      await onNodeNet.broker.stop();
      expect(await received).toBe('{"requestId":"last"}');
    } finally {
      await onNodeNet.close();
    }
  });

  test("stop() releases the port, so a new broker can bind it", async () => {
    await h.connectDevice("lamp1");
    await h.broker.stop();
    const again = await h.startBroker(h.port);
    expect(again.stats().connectedClients).toBe(0);
  });
});
