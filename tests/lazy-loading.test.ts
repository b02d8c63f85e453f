/**
 * What a station does not use, it does not load (issue 17): a station on its embedded broker
 * never loads MQTT.js (the client library, only for --mqtt-url), and prom-client is loaded on
 * the first /metrics scrape, which still shows what happened before it; an API route group is
 * built on its first request; time-zone data is loaded for the first time trigger. The station runs as
 * `bun --preload tests/helpers/loaded-modules-preload.ts bin/opengenie.ts serve`, which writes
 * its loaded module list on SIGUSR2 and at exit.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { readMetric } from "./helpers/metrics.ts";
import { bunOnly, repoRoot } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const ONLY_BUN = "it reads Bun's require.cache of the spawned station through a --preload script";
const temp = makeTempDir();
const listFile = join(temp.path, "loaded-modules.txt");
let s: TestStation;
let sim: SimulatedDevice | undefined;

beforeAll(async () => {
  s = await startTestStation({
    dataDir: join(temp.path, "data"),
    spawnCmd: [
      process.execPath,
      "--preload",
      join(repoRoot, "tests", "helpers", "loaded-modules-preload.ts"),
      join(repoRoot, "bin", "opengenie.ts"),
    ],
    env: { OPENGENIE_LOADED_MODULES_FILE: listFile },
  });
});
afterAll(async () => {
  await sim?.stop({ graceful: true }).catch(() => {});
  await s?.stop();
  temp.remove();
});

/** The spawned station's dump: loaded module paths, then `#intl-datetimeformat <n>`. */
async function dump(signal: boolean): Promise<string[]> {
  if (signal) {
    rmSync(listFile, { force: true });
    process.kill(s.info.pid, "SIGUSR2");
    await eventually(
      async () => existsSync(listFile),
      (written) => written,
    );
  }
  return readFileSync(listFile, "utf8").split("\n");
}

/** The spawned station's loaded modules (paths under node_modules, as package names). */
async function loadedPackages(signal: boolean): Promise<Set<string>> {
  const packages = new Set<string>();
  for (const path of await dump(signal)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (match) packages.add(match[1]!);
  }
  return packages;
}

bunOnly(ONLY_BUN)(
  "embedded broker: MQTT.js never loaded; prom-client loaded at the first scrape, which counts what came before",
  async () => {
    // Route groups are built on their first request (src/http/lazy-routes.ts).
    const routeFiles = ["src/http/routes/device-routes.ts", "src/admin/admin-routes.ts"];
    const loaded = async (file: string) => (await dump(true)).some((p) => p.endsWith(file));
    for (const file of routeFiles)
      expect({ file, loaded: await loaded(file) }).toEqual({ file, loaded: false });

    const admin = await s.userToken("admin1", "admin");
    const { device, credentials } = await addDevice(s, admin, "Hall light", "light");
    sim = simFor(credentials, "light");
    await sim.start();
    await eventually(
      () => getDevice(s, admin, device.id),
      (d) => d.online && d.state.power === "off",
    );

    expect(await loaded("src/http/routes/device-routes.ts")).toBe(true);
    expect(await loaded("src/admin/admin-routes.ts")).toBe(false);

    const before = await loadedPackages(true);
    // The broker's parser: the list does see what the station loaded.
    expect(before.has("mqtt-packet")).toBe(true);
    expect(before.has("mqtt")).toBe(false);
    // The embedded broker is the station's own (src/mqtt/mqtt-broker-core.ts), not aedes.
    expect(before.has("aedes")).toBe(false);
    // The broker's packet parser takes bl's list without its stream (vendor/bl-list).
    expect(before.has("readable-stream")).toBe(false);
    // Ajv compiles drivers' command catalogs: loaded when the first driver announces a device.
    expect(before.has("ajv")).toBe(false);
    expect(before.has("prom-client")).toBe(false);

    // The first scrape shows the state report and the online transition from before it.
    expect(await readMetric(s, "opengenie_device_state_updates_total")).toBeGreaterThanOrEqual(1);
    expect(await readMetric(s, "opengenie_device_status_changes_total", { online: "true" })).toBe(1);
    expect(await readMetric(s, "opengenie_device_events_total")).toBe(0);

    const after = await loadedPackages(true);
    expect(after.has("prom-client")).toBe(true);
    expect(after.has("mqtt")).toBe(false);
  },
);

/** Frame schemas of features this station has not used; each is built on its first use. */
const FEATURE_SCHEMAS = [
  ["src/protocol/driver-frames.ts", "driverEventFrameSchema"],
  ["src/protocol/module-frames.ts", "moduleEventSchema"],
  ["src/protocol/cloud-link.ts", "jsonRpcRequestSchema"],
  ["src/ble/ble-messages.ts", "BleHelperMessageSchema"],
  ["src/protocol/automations.ts", "automationInputSchema"],
] as const;

bunOnly(ONLY_BUN)(
  "schemas of unused features are not built: no driver, AIRI module, cloud link, BLE helper or automation",
  async () => {
    // Started, with a device online (the first test); a schema every start needs is the control.
    const probes = [["src/protocol/device-messages.ts", "stateReportSchema"], ...FEATURE_SCHEMAS];
    writeFileSync(
      `${listFile}.probe`,
      probes.map(([file, name]) => `${join(repoRoot, file)} ${name}\n`).join(""),
    );
    const built = Object.fromEntries(
      (await dump(true))
        .filter((line) => line.startsWith("#schema "))
        .map((line) => [line.split(" ")[1], Number(line.split(" ")[2])]),
    );
    rmSync(`${listFile}.probe`);
    expect(built.stateReportSchema).toBe(0);
    for (const [, name] of FEATURE_SCHEMAS)
      expect({ name, built: built[name] }).toEqual({ name, built: expect.any(Number) });
    for (const [, name] of FEATURE_SCHEMAS)
      expect({ name, unbuiltUntilNow: built[name]! > 0 }).toEqual({ name, unbuiltUntilNow: true });
  },
);

/** How many `Intl.DateTimeFormat`s the station has made (the preload counts them). */
async function dateTimeFormats(): Promise<number> {
  const line = (await dump(true)).find((l) => l.startsWith("#intl-datetimeformat "));
  if (!line) throw new Error("the preload wrote no #intl-datetimeformat line");
  return Number(line.split(" ")[1]);
}

bunOnly(ONLY_BUN)("time-zone data is loaded when the first time trigger needs it, not at start", async () => {
  const admin = await s.userToken("admin2", "admin");
  // Started, serving the API, with a device online (the test above): no zone made yet.
  expect(await dateTimeFormats()).toBe(0);
  const created = await s.api("/api/automations", {
    method: "POST",
    token: admin,
    body: JSON.stringify({
      name: "Nightly",
      triggers: [{ type: "time", at: "02:30" }],
      actions: [{ type: "notify", message: "night" }],
    }),
  });
  expect(created.status).toBe(201);
  expect(await dateTimeFormats()).toBeGreaterThan(0);
});
