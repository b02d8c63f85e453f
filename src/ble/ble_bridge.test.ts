/**
 * Drives the real ble_bridge.py under /usr/bin/python3 against a stub `bleak` package, so every
 * line of the helper protocol and every error mapping is checked without BlueZ or a radio.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHelperHarness, type HelperRun } from "../../tests/helpers/helper-process-harness.ts";
import { parseHelperLine } from "./ble-messages.ts";
import { writeBleakStub } from "./bleak-stub.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dir, "ble_bridge.py");
const SERVICE = "0000fff0-0000-1000-8000-00805f9b34fb";
const CHAR = "0000fff1-0000-1000-8000-00805f9b34fb";
const harness = createHelperHarness();
afterEach(() => harness.close());

function startBridge(mode = "ok"): { run: HelperRun; radio: () => Record<string, unknown>[] } {
  const dir = writeBleakStub(harness.tempDir());
  const log = join(dir, "radio.jsonl");
  const run = harness.run([PYTHON, SCRIPT], {
    PYTHONPATH: dir,
    PYTHONDONTWRITEBYTECODE: "1",
    STUB_BLEAK_MODE: mode,
    STUB_BLEAK_LOG: log,
    STUB_BLEAK_FAIL_ADDRESS: "AA:BB:CC:00:00:99",
  });
  const radio = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  return { run, radio };
}

/** Every stdout line must be exactly one protocol object: the station parses line by line. */
function expectOnlyProtocolLines(run: HelperRun) {
  for (const line of run.lines) expect(parseHelperLine(line)).toBeDefined();
}

const write = (address: string, payload: unknown) => ({
  type: "connect_and_write",
  address,
  service_uuid: SERVICE,
  characteristic_uuid: CHAR,
  payload,
});

describe.skipIf(!existsSync(PYTHON))("ble_bridge.py", () => {
  test("announces ready, scans with the service filter and reports devices with hex service data", async () => {
    const { run, radio } = startBridge();
    expect(await run.next("ready")).toEqual({ type: "ready" });
    run.send({ type: "start_scan", service_uuid: SERVICE });
    expect(await run.next("scan_started")).toEqual({ type: "scan_started" });
    expect(await run.next("discovered")).toEqual({
      type: "discovered",
      address: "AA:BB:CC:00:00:01",
      name: "OpenGenie-Light-0001",
      rssi: -52,
      service_uuids: [SERVICE],
      service_data: { [SERVICE]: "01ab" },
    });
    expect(await run.next("discovered")).toEqual({
      type: "discovered",
      address: "AA:BB:CC:00:00:02",
      name: "Fallback-Name",
      rssi: -67,
      service_uuids: [],
      service_data: {},
    });
    expect(radio()[0]).toEqual({ event: "scan_start", service_uuids: [SERVICE] });
    run.send({ type: "stop_scan" });
    expect(await run.next("scan_stopped")).toEqual({ type: "scan_stopped" });
    expect(radio().at(-1)).toEqual({ event: "scan_stop" });
    expectOnlyProtocolLines(run);
  });

  test("writes an object payload as JSON and a string payload as UTF-8, with response", async () => {
    const { run, radio } = startBridge();
    await run.next("ready");
    const payload = { ssid: "home", password: "pässword", mqtt_host: "10.0.0.2", mqtt_port: 1883 };
    run.send(write("AA:BB:CC:00:00:01", payload));
    expect(await run.next("write_result")).toEqual({
      type: "write_result",
      address: "AA:BB:CC:00:00:01",
      ok: true,
    });
    run.send(write("AA:BB:CC:00:00:02", "héllo ✓"));
    expect(await run.next("write_result")).toMatchObject({ address: "AA:BB:CC:00:00:02", ok: true });
    const writes = radio().filter((e) => e.event === "write");
    expect(JSON.parse(writes[0]?.data as string)).toEqual(payload);
    expect(writes[0]).toMatchObject({ characteristic: CHAR, response: true });
    expect(writes[1]).toMatchObject({ address: "AA:BB:CC:00:00:02", data: "héllo ✓" });
    expect(radio().filter((e) => e.event === "disconnect")).toHaveLength(2);
    expectOnlyProtocolLines(run);
  });

  test("a failed connect answers write_result ok:false with the reason", async () => {
    const { run } = startBridge();
    await run.next("ready");
    run.send(write("AA:BB:CC:00:00:99", "x"));
    const result = await run.next("write_result");
    expect(result).toMatchObject({ address: "AA:BB:CC:00:00:99", ok: false });
    expect(result.error).toContain("was not found");
  });

  test("garbage and unknown commands get an INTERNAL error each, and the helper carries on", async () => {
    const { run } = startBridge();
    await run.next("ready");
    for (const line of ["not json", "[1,2]", '{"type":"bogus"}', '{"type":"connect_and_write"}', '"str"']) {
      run.send(line);
      const error = await run.next("error");
      expect(error.code).toBe("INTERNAL");
      expect(String(error.message).length).toBeGreaterThan(0);
    }
    run.send(write("AA:BB:CC:00:00:01", 42));
    expect(await run.next("error")).toMatchObject({ code: "INTERNAL" });
    run.send({ type: "stop_scan" });
    await run.next("scan_stopped");
    expect(run.stderr.some((l) => l.includes("bad command"))).toBe(true);
    expectOnlyProtocolLines(run);
  });

  test("EOF on stdin stops the scan and exits 0", async () => {
    const { run, radio } = startBridge();
    await run.next("ready");
    run.send({ type: "start_scan", service_uuid: SERVICE });
    await run.next("scan_started");
    run.closeStdin();
    expect(await run.exit()).toBe(0);
    expect(radio().at(-1)).toEqual({ event: "scan_stop" });
  });

  const mappings = [
    { mode: "no_dbus", code: "NO_BLUEZ", hint: "apt-get install bluez" },
    { mode: "no_bluetoothd", code: "NO_BLUEZ", hint: "systemctl enable --now bluetooth" },
    { mode: "no_adapter", code: "NO_ADAPTER", hint: "Bluetooth adapter" },
    { mode: "boom", code: "INTERNAL", hint: "radio on fire" },
  ];
  for (const { mode, code, hint } of mappings) {
    test(`a scan failing with ${mode} reports ${code} with what to do, and the helper stays up`, async () => {
      const { run } = startBridge(mode);
      await run.next("ready");
      run.send({ type: "start_scan", service_uuid: SERVICE });
      const error = await run.next("error");
      expect(error.code).toBe(code);
      expect(String(error.message)).toContain(hint);
      run.send({ type: "stop_scan" });
      await run.next("scan_stopped");
      expect(run.lines.some((l) => l.includes("scan_started"))).toBe(false);
      expectOnlyProtocolLines(run);
    });
  }

  test("a write failing for lack of BlueZ reports the error and write_result ok:false", async () => {
    const { run } = startBridge("no_dbus");
    await run.next("ready");
    run.send(write("AA:BB:CC:00:00:01", "x"));
    expect(await run.next("error")).toMatchObject({ code: "NO_BLUEZ" });
    expect(await run.next("write_result")).toMatchObject({ address: "AA:BB:CC:00:00:01", ok: false });
  });

  test("without bleak it says how to install it, then exits non-zero", async () => {
    // -S -E: no site-packages and no PYTHONPATH, so bleak is missing even where it is installed.
    const run = harness.run([PYTHON, "-S", "-E", SCRIPT]);
    const error = await run.next("error");
    expect(error).toMatchObject({ type: "error", code: "BLEAK_MISSING" });
    expect(String(error.message)).toContain("apt-get install python3-bleak");
    expect(await run.exit()).not.toBe(0);
    expect(run.lines).toHaveLength(1);
  });
});
