/**
 * The station side of CONTRACT.md section 3 at its smallest: a real aedes broker on a free
 * loopback port plus an MQTT.js client that acks handshakes and records what devices send.
 * Lets the simulator (and benches) be exercised without booting a whole station.
 */
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import { type DeviceTopicSuffix, deviceTopic, type HandshakeAck } from "../src/protocol/index.ts";

export type StationPayload = Record<string, unknown> & { state?: Record<string, unknown> };

export interface RecordedMessage {
  deviceId: string;
  suffix: string;
  payload: StationPayload;
  consumed: boolean;
}

export interface FakeStationOptions {
  stationId: string;
  /** CONNECT with this password is refused (return code 5), to test bad credentials. */
  refusedPassword?: string;
  /** Publishes and subscriptions on matching topics are refused, like a broker ACL would. */
  deniedTopic?: (topic: string) => boolean;
  waitTimeoutMs?: number;
}

export interface FakeStation {
  url: string;
  server: Server;
  messages: RecordedMessage[];
  /** Handshakes from these deviceIds are answered with `unknown_device`. */
  unknownDevices: Set<string>;
  /** Resolves with the oldest unconsumed message from deviceId on suffix (waiting if none yet). */
  next(deviceId: string, suffix: string, match?: (p: StationPayload) => boolean): Promise<StationPayload>;
  all(deviceId: string, suffix: string): StationPayload[];
  command(deviceId: string, body: Record<string, unknown>): void;
  rawCommand(deviceId: string, payload: string): void;
  close(): Promise<void>;
}

function parse(payload: Buffer): StationPayload {
  try {
    const value: unknown = JSON.parse(payload.toString());
    if (value && typeof value === "object" && !Array.isArray(value)) return value as StationPayload;
  } catch {}
  return { raw: payload.toString() };
}

export async function startFakeStation(options: FakeStationOptions): Promise<FakeStation> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, _username, password, done) =>
      done(null, options.refusedPassword === undefined || password?.toString() !== options.refusedPassword),
    // aedes answers SUBACK 0x80 when the callback passes no subscription.
    authorizeSubscribe: (_client, sub, done) => done(null, options.deniedTopic?.(sub.topic) ? null : sub),
    authorizePublish: (_client, packet, done) =>
      done(options.deniedTopic?.(packet.topic) ? new Error(`publish to ${packet.topic} denied`) : null),
  });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `mqtt://127.0.0.1:${port}`;

  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `station-${options.stationId}` });
  await client.subscribeAsync(`station/${options.stationId}/device/+/#`, { qos: 1 });

  const messages: RecordedMessage[] = [];
  const waiters = new Set<() => void>();
  const unknownDevices = new Set<string>();
  const publish = (deviceId: string, suffix: DeviceTopicSuffix, payload: string) =>
    client.publish(deviceTopic(options.stationId, deviceId, suffix), payload, { qos: 1 });

  client.on("message", (topic, payload) => {
    const match = /^station\/[^/]+\/device\/([^/]+)\/(.+)$/.exec(topic);
    if (!match?.[1] || !match[2]) return;
    const [deviceId, suffix] = [match[1], match[2]];
    if (suffix === "handshake/ack" || suffix === "command") return; // our own echoes
    messages.push({ deviceId, suffix, payload: parse(payload), consumed: false });
    if (suffix === "handshake") {
      const ack: HandshakeAck = unknownDevices.has(deviceId)
        ? { status: "unknown_device" }
        : { status: "ok", serverTime: Date.now() };
      publish(deviceId, "handshake/ack", JSON.stringify(ack));
    }
    for (const wake of waiters) wake();
  });

  const take = (deviceId: string, suffix: string, match?: (p: StationPayload) => boolean) => {
    const found = messages.find(
      (m) => !m.consumed && m.deviceId === deviceId && m.suffix === suffix && (!match || match(m.payload)),
    );
    if (found) found.consumed = true;
    return found?.payload;
  };

  const next: FakeStation["next"] = (deviceId, suffix, match) => {
    const ready = take(deviceId, suffix, match);
    if (ready) return Promise.resolve(ready);
    const timeoutMs = options.waitTimeoutMs ?? 2_000;
    return new Promise((resolve, reject) => {
      const wake = () => {
        const found = take(deviceId, suffix, match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`no ${suffix} from ${deviceId} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(wake);
    });
  };

  return {
    url,
    server,
    messages,
    unknownDevices,
    next,
    all: (deviceId, suffix) =>
      messages.filter((m) => m.deviceId === deviceId && m.suffix === suffix).map((m) => m.payload),
    command: (deviceId, body) => publish(deviceId, "command", JSON.stringify(body)),
    rawCommand: (deviceId, payload) => publish(deviceId, "command", payload),
    async close() {
      await client.endAsync();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
