/**
 * The fake BLE helper as the station runs it: a real `bun firmware-sim/ble-bridge.ts` process
 * on stdin/stdout, and for provisioning a real MQTT broker (the fake station) that the
 * provisioned device must handshake with under the credentials it was handed.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseHelperLine } from "../src/ble/index.ts";
import { createHelperHarness, type HelperRun } from "../tests/helpers/helper-process-harness.ts";
import { type FakeStation, startFakeStation } from "./fake-station.ts";

const BRIDGE = join(import.meta.dir, "ble-bridge.ts");
const SERVICE = "0000fff0-0000-1000-8000-00805f9b34fb";
const harness = createHelperHarness();
const stations: FakeStation[] = [];
afterEach(async () => {
  await harness.close();
  await Promise.all(stations.splice(0).map((s) => s.close()));
});

const bridge = (...args: string[]) =>
  harness.run([process.execPath, BRIDGE, "--announce-interval-ms", "100", ...args]);

const announcedAfter = (run: HelperRun, from: number) =>
  run.lines.slice(from).flatMap((line) => {
    const message = parseHelperLine(line);
    return message?.type === "discovered" ? [message.address] : [];
  });

function provision(address: string, payload: Record<string, unknown> | string) {
  return { type: "connect_and_write", address, service_uuid: SERVICE, characteristic_uuid: "fff1", payload };
}

describe("fake BLE bridge", () => {
  test("speaks the helper protocol: scan, re-announce, unknown write, stop, garbage, EOF", async () => {
    const run = bridge();
    expect(await run.next("ready")).toEqual({ type: "ready" });
    run.send({ type: "start_scan", service_uuid: SERVICE });
    expect(await run.next("scan_started")).toEqual({ type: "scan_started" });
    const first = await run.next("discovered");
    expect(first).toMatchObject({
      address: "AA:BB:CC:00:00:01",
      name: "OpenGenie-Light-0001",
      service_uuids: [SERVICE],
      service_data: {},
    });
    expect(first.rssi).toBeWithin(-75, -44);
    expect(await run.next("discovered")).toMatchObject({
      address: "AA:BB:CC:00:00:02",
      name: "OpenGenie-Light-0002",
    });
    // Re-announced while scanning, as an advertising device keeps broadcasting.
    await run.until(() => (announcedAfter(run, 0).length >= 6 ? true : undefined), "re-announcements");
    expect(new Set(announcedAfter(run, 0))).toEqual(new Set(["AA:BB:CC:00:00:01", "AA:BB:CC:00:00:02"]));

    run.send(provision("AA:BB:CC:00:00:77", { ssid: "x" }));
    expect(await run.next("write_result")).toEqual({
      type: "write_result",
      address: "AA:BB:CC:00:00:77",
      ok: false,
      error: "device not found",
    });
    run.send("definitely not json");
    expect(await run.next("error")).toMatchObject({ code: "INTERNAL" });
    run.send({ type: "stop_scan" });
    await run.next("scan_stopped");
    const stoppedAt = run.lines.length;
    // A separate process on real timers, and a negative: three 100 ms announce periods are the
    // window in which an announcer left running would show.
    await Bun.sleep(300);
    expect(announcedAfter(run, stoppedAt)).toEqual([]);
    for (const line of run.lines) expect(parseHelperLine(line)).toBeDefined();
    run.closeStdin();
    expect(await run.exit()).toBe(0);
  });

  test("--devices and --types shape what advertises", async () => {
    const run = bridge("--devices", "3", "--types", "switch,pir");
    await run.next("ready");
    run.send({ type: "start_scan", service_uuid: SERVICE });
    const names = [await run.next("discovered"), await run.next("discovered"), await run.next("discovered")];
    expect(names.map((m) => m.name)).toEqual([
      "OpenGenie-Switch-0001",
      "OpenGenie-Pir-0002",
      "OpenGenie-Switch-0003",
    ]);
    run.kill("SIGTERM");
    expect(await run.exit()).toBe(0);
  });

  test("a provisioned device stops advertising and joins over MQTT with its credentials", async () => {
    const station = await startFakeStation({ stationId: "st-ble" });
    stations.push(station);
    const port = Number(new URL(station.url).port);
    const run = bridge("--wifi-password", "right-pw");
    await run.next("ready");
    run.send({ type: "start_scan", service_uuid: SERVICE });
    await run.next("scan_started");
    const payload = {
      ssid: "home",
      password: "wrong-pw",
      mqtt_host: "127.0.0.1",
      mqtt_port: port,
      device_id: "dev-ble-1",
      device_token: "secret-1",
      station_id: "st-ble",
    };

    run.send(provision("AA:BB:CC:00:00:01", payload));
    expect(await run.next("write_result")).toEqual({
      type: "write_result",
      address: "AA:BB:CC:00:00:01",
      ok: true,
    });
    await run.waitForStderr("wrong password");

    // A string payload, as a station may send the JSON already encoded.
    run.send(provision("AA:BB:CC:00:00:01", JSON.stringify({ ...payload, password: "right-pw" })));
    expect(await run.next("write_result")).toMatchObject({ address: "AA:BB:CC:00:00:01", ok: true });
    const joinedAt = run.lines.length;
    expect(await station.next("dev-ble-1", "handshake")).toMatchObject({ type: "light" });
    await run.until(() => (announcedAfter(run, joinedAt).length >= 3 ? true : undefined), "announcements");
    expect(new Set(announcedAfter(run, joinedAt))).toEqual(new Set(["AA:BB:CC:00:00:02"]));

    run.send(provision("AA:BB:CC:00:00:01", payload));
    expect(await run.next("write_result")).toMatchObject({ ok: false, error: "device not found" });
    run.kill("SIGTERM");
    expect(await run.exit()).toBe(0);
  });
});
