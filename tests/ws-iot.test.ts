import { afterAll, beforeAll, expect, test } from "bun:test";
import { addDevice, eventually, getDevice } from "./helpers/devices.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket, upgradeStatus } from "./helpers/ws-client.ts";

let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("iot-admin", "admin");
});
afterAll(() => s.stop());

test("a raw /ws/iot device: handshake, state, command round trip, offline on close", async () => {
  const { device, credentials } = await addDevice(s, admin, "WS lamp", "light");
  expect(await upgradeStatus(`${s.url}/ws/iot?deviceId=${device.id}&token=wrong`)).toBe(401);
  expect(await upgradeStatus(`${s.url}/ws/iot?deviceId=${device.id}`)).toBe(401);
  expect(
    await upgradeStatus(`${s.url}/ws/iot?deviceId=${device.id}`, {
      "x-device-token": credentials.mqttPassword,
    }),
  ).toBe(101);

  const dev = await openSocket(`${s.wsUrl}/ws/iot?deviceId=${device.id}&token=${credentials.mqttPassword}`);
  dev.ws.send(JSON.stringify({ topic: "handshake", payload: { type: "light", firmwareVersion: "ws-1" } }));
  expect(await dev.next()).toMatchObject({ topic: "handshake/ack", payload: { status: "ok" } });
  dev.ws.send("garbage");
  dev.ws.send(JSON.stringify({ topic: "state", payload: { state: { power: "off", brightness: 10 } } }));
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => d.online && d.state.brightness === 10,
  );
  expect((await getDevice(s, admin, device.id)).transport).toBe("iot-ws");

  const pending = s.api(`/api/devices/${device.id}/commands?wait=3000`, {
    method: "POST",
    token: admin,
    body: JSON.stringify({ action: "set_brightness", params: { brightness: 60 } }),
  });
  const command = (await dev.waitFor((f) => f.topic === "command")).payload as {
    requestId: string;
    brightness: number;
  };
  expect(command).toMatchObject({ action: "set_brightness", brightness: 60 });
  dev.ws.send(
    JSON.stringify({ topic: "command/result", payload: { requestId: command.requestId, ok: true } }),
  );
  expect((await pending).status).toBe(200);

  dev.close();
  await eventually(
    () => getDevice(s, admin, device.id),
    (d) => !d.online,
  );
});
