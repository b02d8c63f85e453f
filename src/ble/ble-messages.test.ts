import { describe, expect, test } from "bun:test";
import {
  BleCommandSchema,
  connectAndWriteCommand,
  encodeCommand,
  parseHelperLine,
  startScanCommand,
  stopScanCommand,
} from "./ble-messages.ts";

describe("BLE helper messages", () => {
  test("parses every helper line of the contract", () => {
    expect(parseHelperLine('{"type":"ready"}')).toEqual({ type: "ready" });
    expect(parseHelperLine('{"type":"scan_started"}')).toEqual({ type: "scan_started" });
    expect(parseHelperLine('{"type":"scan_stopped"}')).toEqual({ type: "scan_stopped" });
    expect(parseHelperLine('{"type":"write_result","address":"A","ok":false,"error":"x"}')).toEqual({
      type: "write_result",
      address: "A",
      ok: false,
      error: "x",
    });
    expect(parseHelperLine('{"type":"discovered","address":"A","name":null,"rssi":-60}')).toEqual({
      type: "discovered",
      address: "A",
      name: "",
      rssi: -60,
      service_uuids: [],
      service_data: {},
    });
    expect(parseHelperLine('{"type":"error","code":"NO_BLUEZ","message":"m"}')).toMatchObject({
      code: "NO_BLUEZ",
    });
    expect(parseHelperLine('{"type":"error","code":"WEIRD","message":"m"}')).toMatchObject({
      code: "INTERNAL",
    });
  });

  test("rejects garbage", () => {
    for (const line of ["", "nope", "[]", '{"type":"hello"}', '{"type":"discovered","address":"A"}']) {
      expect(parseHelperLine(line)).toBeUndefined();
    }
  });

  test("builds commands with the contract's field names, one line each", () => {
    const payload = {
      ssid: "home",
      password: "pw",
      mqtt_host: "192.168.1.2",
      mqtt_port: 1883,
      device_id: "d1",
      device_token: "t",
      station_id: "s",
    };
    const write = connectAndWriteCommand({
      address: "A",
      serviceUuid: "s",
      characteristicUuid: "c",
      payload,
    });
    expect(write).toEqual({
      type: "connect_and_write",
      address: "A",
      service_uuid: "s",
      characteristic_uuid: "c",
      payload,
    });
    expect(encodeCommand(startScanCommand("fff0"))).toBe('{"type":"start_scan","service_uuid":"fff0"}\n');
    expect(encodeCommand(stopScanCommand())).toBe('{"type":"stop_scan"}\n');
    for (const cmd of [write, startScanCommand("x"), stopScanCommand()]) {
      expect(BleCommandSchema.parse(JSON.parse(encodeCommand(cmd)))).toEqual(cmd);
    }
  });
});
