/**
 * Issue 9, finding 5: one device could fill the disk with events (2,000 events of 60 KiB in
 * 3.3 s grew the database from 4.7 MB to 251 MB). A real device over MQTT against a whole
 * station on a real SQLite file; the station's clock is injected, so the rate is exact.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { connectAsync, type MqttClient } from "mqtt";
import { createManualClock } from "../src/core/index.ts";
import type { DeviceCredentials as Credentials } from "../src/protocol/index.ts";
import { addDevice, eventually, getDevice } from "./helpers/devices.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const BURST = 100;
const PER_SECOND = 20;

let s: TestStation;
let clock: ReturnType<typeof createManualClock>;
let admin: string;
let device: Credentials;
let client: MqttClient;

beforeEach(async () => {
  clock = createManualClock(Date.now());
  s = await startTestStation({ clock });
  admin = await s.userToken("limits-admin", "admin");
  device = (await addDevice(s, admin, "Chatty", "sensor")).credentials;
  client = await connectAsync(`mqtt://127.0.0.1:${device.mqttPort}`, {
    clientId: device.deviceId,
    username: device.deviceId,
    password: device.mqttPassword,
    reconnectPeriod: 0,
  });
  await publish("handshake", { type: "sensor", firmwareVersion: "1.0" });
});
afterEach(async () => {
  await client.endAsync(true);
  await s.stop();
});

function publish(suffix: string, payload: object) {
  const topic = `station/${device.stationId}/device/${device.deviceId}/${suffix}`;
  return client.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
}

/** Every QoS 1 publish is acknowledged; a dropped one is dropped quietly, never refused. */
function flood(count: number, suffix: "event" | "state", size: number, from = 0) {
  const blob = "x".repeat(size);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      publish(
        suffix,
        suffix === "event"
          ? { event: "device_event", data: { n: from + i, blob } }
          : { state: { temperature: from + i, blob } },
      ),
    ),
  );
}

async function dropped(reason: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`opengenie_device_messages_dropped_total{reason="${reason}"}`));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

async function storedRows(kind: string): Promise<number> {
  const res = await s.api(`/api/devices/${device.deviceId}/events?limit=500`, { token: admin });
  const { events } = (await res.json()) as { events: { kind: string }[] };
  return events.filter((e) => e.kind === kind).length;
}

bunOnly(CLOCK_ONLY_IN_PROCESS)(
  "2,000 events at once: the log keeps a burst of 100, then 20/s; the rest is dropped and counted",
  async () => {
    await flood(2000, "event", 4096);
    await eventually(
      () => dropped("rate"),
      (n) => n === 2000 - BURST,
    );
    expect(await storedRows("device_event")).toBe(BURST);

    // One second later: 20 more fit, whatever is sent.
    clock.advance(1000);
    await flood(50, "event", 16, 2000);
    await eventually(
      () => dropped("rate"),
      (n) => n === 2000 - BURST + 50 - PER_SECOND,
    );
    expect(await storedRows("device_event")).toBe(BURST + PER_SECOND);

    // The device is still connected, and its state still lands.
    expect(client.connected).toBe(true);
    await publish("state", { state: { temperature: 21.5 } });
    await eventually(
      () => getDevice(s, admin, device.deviceId),
      (d) => d.state.temperature === 21.5 && d.online,
    );
    expect(s.logger.lines.filter((l) => l.includes("dropped device message")).length).toBe(1);
  },
);

test("a state flood is applied in full, but the event log keeps one row per device per minute of it", async () => {
  await flood(300, "state", 4096);
  await eventually(
    () => getDevice(s, admin, device.deviceId),
    (d) => d.state.temperature === 299,
  );
  // The window's first change at once; the rest of the minute is merged into one row written
  // when the window ends (src/devices/disk-diet.ts), so a flood writes at most two rows.
  const stored = await storedRows("state");
  expect(stored).toBeGreaterThanOrEqual(1);
  expect(stored).toBeLessThanOrEqual(2);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  expect(metrics).toContain("opengenie_device_state_history_skipped_total");
});

test("an event over 64 KiB is dropped and counted as size; the device stays connected", async () => {
  await flood(1, "event", 64 * 1024);
  await eventually(
    () => dropped("size"),
    (n) => n === 1,
  );
  await flood(1, "event", 60 * 1024);
  await eventually(
    () => storedRows("device_event"),
    (n) => n === 1,
  );
  expect(client.connected).toBe(true);
  expect(await dropped("rate")).toBe(0);
});
