import { afterAll, beforeAll, expect, test } from "bun:test";
import { eventually, getDevice } from "./helpers/devices.ts";
import { connectDriver, discovered, driverToken, registerDriver, stationIdOf } from "./helpers/drivers.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation } from "./helpers/test-station.ts";

// What a driver announced outlives a station restart: the device keeps its commands and
// metrics (offline until its driver is back), and registering is enough to bring it back.
let temp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  temp = makeTempDir();
});
afterAll(() => temp.remove());

test("after a restart a driver device is offline with its commands and metrics, and online again once its driver registers", async () => {
  const first = await startTestStation({ dataDir: temp.path });
  const admin = await first.userToken("restart-admin", "admin");
  const token = await driverToken(first, "KEEPER");
  let id: string;
  try {
    const d = await connectDriver(first, { token });
    await registerDriver(d, "KEEPER", "keeper-1");
    d.send(discovered("boiler"));
    id = await stationIdOf(first, admin, "KEEPER", "boiler");
    d.send({
      event: "METRIC_UPDATE",
      device_id: "boiler",
      data: { metrics: [{ key: "pressure", value: 1.4, unit: "bar" }] },
    });
    await eventually(
      () => getDevice(first, admin, id),
      (dev) => (dev.metrics ?? []).length === 1,
    );
    d.close();
  } finally {
    await first.stop();
  }

  const second = await startTestStation({ dataDir: temp.path });
  try {
    const device = await getDevice(second, admin, id);
    expect(device).toMatchObject({
      online: false,
      transport: "driver",
      commands: [{ action: "set_target" }, { action: "refresh_state" }],
      metrics: [{ key: "pressure", value: 1.4, unit: "bar" }],
    });
    const send = (body: unknown) =>
      second.api(`/api/devices/${id}/commands`, { method: "POST", token: admin, body: JSON.stringify(body) });
    // The announced catalog still decides what is valid; valid commands wait for the driver.
    expect((await send({ action: "set_target", params: { celsius: 40 } })).status).toBe(400);
    expect((await send({ action: "set_target", params: { celsius: 20 } })).status).toBe(409);

    const d = await connectDriver(second, { token });
    await registerDriver(d, "KEEPER", "keeper-1");
    await eventually(
      () => getDevice(second, admin, id),
      (dev) => dev.online,
    );
    expect((await send({ action: "set_target", params: { celsius: 20 } })).status).toBe(202);
    expect((await d.waitFor((f) => f.event === "ACTION")).data).toMatchObject({ payload: { celsius: 20 } });
    d.close();
  } finally {
    await second.stop();
  }
});
