import { afterAll, beforeAll, expect, test } from "bun:test";
import { createStationDriver, type DriverEvents, type StationDriver } from "../sdk/driver/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { eventually, getDevice } from "./helpers/devices.ts";
import { driverToken, stationIdOf } from "./helpers/drivers.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

// The driver SDK (sdk/driver/) against a real station. Its reconnect timers run on a manual
// clock: a reconnect happens exactly when the clock reaches the announced delay, not before.
let s: TestStation;
let admin: string;
beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("sdk-admin", "admin");
});
afterAll(() => s.stop());

/** The SDK's events of one kind, as they arrive, to await one at a time. */
function recorder<K extends keyof DriverEvents>(driver: StationDriver, event: K) {
  const seen: DriverEvents[K][] = [];
  driver.on(event, (e) => seen.push(e));
  let taken = 0;
  return {
    seen,
    async next(): Promise<DriverEvents[K]> {
      const deadline = Date.now() + 5000;
      while (seen.length <= taken) {
        if (Date.now() > deadline) throw new Error(`no ${String(event)} event in time`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return seen[taken++]!;
    },
  };
}

const wsUrl = (station: TestStation) => `${station.wsUrl}/driver`;

test("refused connections are retried after 1, 2, 4, 8, 16, 30, 30 s, each exactly when the clock gets there", async () => {
  const clock = createManualClock();
  // No token: the station answers 401 before the upgrade, every time.
  const driver = createStationDriver({
    url: wsUrl(s),
    driverKey: "backoff",
    instanceId: "b-1",
    clock,
    random: () => 0.5,
  });
  const reconnecting = recorder(driver, "reconnecting");
  driver.connect();
  expect(driver.attempts).toBe(1);
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 7; attempt++) {
    const next = await reconnecting.next();
    expect(next.attempt).toBe(attempt);
    delays.push(next.delayMs);
    clock.advance(next.delayMs - 1);
    expect(driver.attempts).toBe(attempt);
    clock.advance(1);
    expect(driver.attempts).toBe(attempt + 1);
  }
  expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  driver.close();
  clock.advance(60_000);
  expect(driver.attempts).toBe(8);
});

test("the jitter stays within ±10 % of the schedule", async () => {
  for (const [random, first] of [
    [() => 0, 900],
    [() => 0.999_999, 1100],
  ] as const) {
    const clock = createManualClock();
    const driver = createStationDriver({
      url: wsUrl(s),
      driverKey: "JITTER",
      instanceId: "j-1",
      clock,
      random,
    });
    const reconnecting = recorder(driver, "reconnecting");
    driver.connect();
    expect((await reconnecting.next()).delayMs).toBe(first);
    driver.close();
  }
});

test("after a station restart the driver reconnects with backoff, registers, re-announces its devices, and the schedule starts over", async () => {
  const temp = makeTempDir();
  let station = await startTestStation({ dataDir: temp.path });
  const clock = createManualClock();
  try {
    const token = await driverToken(station, "RESTART");
    const driver = createStationDriver({
      url: wsUrl(station),
      driverKey: "RESTART",
      instanceId: "restart-1",
      token,
      clock,
      random: () => 0.5,
    });
    const registered = recorder(driver, "registered");
    const reconnecting = recorder(driver, "reconnecting");
    driver.announce({ id: "lamp", name: "Porch lamp", deviceType: "light", commands: [{ key: "turn_on" }] });
    driver.setState("lamp", { power: "off" });
    driver.connect();
    expect(await registered.next()).toEqual({ driverKey: "RESTART", instanceId: "restart-1" });
    const stationAdmin = await station.userToken("restart-admin", "admin");
    const id = await stationIdOf(station, stationAdmin, "RESTART", "lamp");

    const port = station.info.httpPort;
    await station.stop();
    expect(await reconnecting.next()).toEqual({ attempt: 1, delayMs: 1000 });
    clock.advance(1000); // refused: nothing listens
    expect(await reconnecting.next()).toEqual({ attempt: 2, delayMs: 2000 });
    clock.advance(2000);
    expect(await reconnecting.next()).toEqual({ attempt: 3, delayMs: 4000 });
    station = await startTestStation({ dataDir: temp.path, env: { OPENGENIE_PORT: String(port) } });
    driver.setState("lamp", { power: "on" }); // while away: sent with the replay
    clock.advance(4000);
    await registered.next();
    const back = await eventually(
      () => getDevice(station, stationAdmin, id),
      (d) => d.online && d.state.power === "on",
    );
    expect(back).toMatchObject({ name: "Porch lamp", transport: "driver" });

    await cli(temp.path, ["driver", "token", "--revoke", "RESTART"]);
    // Registered in between, so the count starts again at 1 s.
    expect(await reconnecting.next()).toEqual({ attempt: 1, delayMs: 1000 });
    driver.close();
  } finally {
    await station.stop();
    temp.remove();
  }
});

test("close code 4001 (replaced by a newer session): the SDK says so and never reconnects", async () => {
  const token = await driverToken(s, "REPLACEABLE");
  const clock = createManualClock();
  const options = { url: wsUrl(s), driverKey: "REPLACEABLE", instanceId: "r-1", token, clock };
  const older = createStationDriver(options);
  const olderRegistered = recorder(older, "registered");
  const replaced = recorder(older, "replaced");
  older.connect();
  await olderRegistered.next();
  const newer = createStationDriver(options);
  const newerRegistered = recorder(newer, "registered");
  newer.connect();
  await newerRegistered.next();
  await replaced.next();
  expect(older.state).toBe("replaced");
  clock.advance(120_000);
  expect(older.attempts).toBe(1);
  expect(newer.state).toBe("registered");
  newer.close();
});

test("onAction: its return value (or what it throws) becomes the ACTION_RESULT the API reports", async () => {
  const token = await driverToken(s, "DOORS");
  const driver = createStationDriver({ url: wsUrl(s), driverKey: "DOORS", instanceId: "doors-1", token });
  const actions = recorder(driver, "action");
  const outcomes: Record<string, () => unknown> = {
    open: () => undefined,
    close: () => true,
    lock: () => ({ success: false, message: "Door is jammed" }),
    unlock: () => {
      throw new Error("motor stalled");
    },
    chime: () => false,
  };
  driver.onAction(async ({ command }) => outcomes[command]!() as never);
  driver.announce({
    id: "front",
    name: "Front door",
    deviceType: "lock",
    commands: Object.keys(outcomes).map((key) => ({ key })),
  });
  const registered = recorder(driver, "registered");
  driver.connect();
  await registered.next();
  const id = await stationIdOf(s, admin, "DOORS", "front");
  const run = async (action: string) => {
    const res = await s.api(`/api/devices/${id}/commands?wait=5000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action }),
    });
    const body = (await res.json()) as { status?: string; error?: { code: string; message: string } };
    return { status: res.status, code: body.error?.code, message: body.error?.message };
  };
  expect(await run("open")).toMatchObject({ status: 200 });
  expect(await run("close")).toMatchObject({ status: 200 });
  expect(await run("lock")).toMatchObject({
    status: 502,
    code: "DEVICE_ERROR",
    message: expect.stringContaining("Door is jammed"),
  });
  expect(await run("unlock")).toMatchObject({
    status: 502,
    message: expect.stringContaining("motor stalled"),
  });
  expect(await run("chime")).toMatchObject({ status: 502, code: "DEVICE_ERROR" });
  expect(actions.seen.map((a) => a.command)).toEqual(["open", "close", "lock", "unlock", "chime"]);
  expect(actions.seen[0]).toMatchObject({ deviceId: "front", payload: {}, requestId: expect.any(String) });
  driver.close();
});
