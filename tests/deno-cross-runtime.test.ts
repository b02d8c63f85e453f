/**
 * One data dir, the station on Bun, then on Deno, then on Bun again: the users (password
 * hashes made on one runtime verify on the other), the devices (their MQTT secrets), their
 * state and the command history all carry over, in both directions. Runs in the Bun suite.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { type CreatedDevice, createdDeviceSchema, deviceBodySchema } from "../src/protocol/index.ts";
import { eventually, simFor } from "./helpers/devices.ts";
import { runCommand, type SpawnedStation, spawnStation } from "./helpers/spawn-station.ts";
import { opengenieCommand, runtimeEnv, type StationRuntime } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const dir = makeTempDir();
const dataDir = join(dir.path, "data");
const running: SpawnedStation[] = [];
const sims: SimulatedDevice[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.stop().catch(() => {});
  for (const s of running) if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
  dir.remove();
});

async function start(runtime: StationRuntime) {
  const s = await spawnStation(dataDir, {
    cmd: opengenieCommand(runtime),
    env: { ...runtimeEnv(runtime), LOG_FORMAT: "json" },
  });
  running.push(s);
  return s;
}

async function stop(s: SpawnedStation) {
  expect(await s.terminate()).toBe(0);
}

async function addUser(runtime: StationRuntime, name: string) {
  const added = await runCommand(
    [
      ...opengenieCommand(runtime),
      "user",
      "add",
      name,
      "--role",
      "admin",
      "--password-stdin",
      "--data-dir",
      dataDir,
    ],
    { stdin: `${name}-password\n`, env: runtimeEnv(runtime) },
  );
  expect(added.code).toBe(0);
}

async function login(s: SpawnedStation, name: string, password = `${name}-password`) {
  const res = await fetch(`${s.info.httpUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: name, password }),
  });
  return {
    status: res.status,
    token: res.ok ? ((await res.json()) as { accessToken: string }).accessToken : "",
  };
}

const api = (s: SpawnedStation, token: string, path: string, body?: unknown) =>
  fetch(`${s.info.httpUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function device(s: SpawnedStation, token: string, id: string) {
  const res = await api(s, token, `/api/devices/${id}`);
  expect(res.status).toBe(200);
  return deviceBodySchema.parse(await res.json()).device;
}

/** The device joins this run's broker with the secret it was given on the first run. */
async function online(s: SpawnedStation, created: CreatedDevice) {
  const sim = simFor({ ...created.credentials, mqttPort: s.info.mqttPort }, "light");
  sims.push(sim);
  await sim.start();
  return sim;
}

async function setBrightness(s: SpawnedStation, token: string, id: string, brightness: number) {
  const res = await api(s, token, `/api/devices/${id}/commands?wait=5000`, {
    action: "set_brightness",
    params: { brightness },
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { status: string }).status).toBe("ok");
  await eventually(
    () => device(s, token, id),
    (d) => d.state.brightness === brightness,
  );
}

test("a data dir written on Bun opens on Deno and back: same users, devices, state", async () => {
  // Bun: a user (hashed by Bun.password), a device, its state.
  const bun = await start("bun");
  await addUser("bun", "ada");
  const ada = await login(bun, "ada");
  expect(ada.status).toBe(200);
  const res = await api(bun, ada.token, "/api/devices", { name: "Desk lamp", type: "light" });
  expect(res.status).toBe(201);
  const created = createdDeviceSchema.parse(await res.json());
  const id = created.device.id;
  let sim = await online(bun, created);
  await setBrightness(bun, ada.token, id, 40);
  await sim.stop();
  await stop(bun);

  // Deno: Bun's hash verifies, the device and its state are there, and it reconnects.
  const deno = await start("deno");
  expect((await login(deno, "ada", "wrong-password")).status).toBe(401);
  const adaOnDeno = await login(deno, "ada");
  expect(adaOnDeno.status).toBe(200);
  expect(await device(deno, adaOnDeno.token, id)).toMatchObject({
    name: "Desk lamp",
    state: { brightness: 40 },
  });
  await addUser("deno", "grace");
  sim = await online(deno, created);
  await setBrightness(deno, adaOnDeno.token, id, 80);
  await sim.stop();
  await stop(deno);

  // Bun again: Deno's hash verifies, Deno's writes are there.
  const again = await start("bun");
  const grace = await login(again, "grace");
  expect(grace.status).toBe(200);
  expect((await login(again, "grace", "wrong-password")).status).toBe(401);
  expect((await login(again, "ada")).status).toBe(200);
  expect(await device(again, grace.token, id)).toMatchObject({
    name: "Desk lamp",
    state: { brightness: 80 },
  });
  const users = await api(again, grace.token, "/api/users");
  expect(
    ((await users.json()) as { users: { username: string }[] }).users.map((u) => u.username).sort(),
  ).toEqual(["ada", "grace"]);
  await stop(again);
}, 120_000);
