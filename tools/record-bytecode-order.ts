#!/usr/bin/env bun
/**
 * Records which of the executable's functions a station uses, into tools/bytecode-order.txt,
 * which build.ts passes to `bun build --compile --bytecode` as `compile.bytecodeOrder`: Bun then
 * lays the bytecode those functions need out together at the front of the embedded bundle, so an
 * idle station touches fewer of its pages (issue 17: about 4 MB less resident memory; the start
 * time does not change).
 *
 *   bun tools/record-bytecode-order.ts      (npm run build:order)
 *
 * The run is a typical day in small: the compiled binary (built into a temp dir) starts on a
 * fresh data dir, answers /api/health, serves the web app, registers three lights, which connect
 * over MQTT as firmware-sim devices and report state, takes a command for each and a device
 * list, then idles for 6 s and stops. The file names functions by a hash of their code, so a
 * profile from an older build still applies to the functions that did not change; record it
 * again after large changes. The build works without the file (no layout, the same program).
 */
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { benchLifecycle, startBenchStation } from "../bench/bench-station.ts";
import { buildBinaries, hostArch } from "../build.ts";
import { brokerUrl, createSimulatedDevice, type SimulatedDevice } from "../firmware-sim/index.ts";
import { makeTempDir } from "../tests/helpers/temp-dir.ts";

export const BYTECODE_ORDER_FILE = join(import.meta.dir, "bytecode-order.txt");
const LIGHTS = 3;
const IDLE_MS = 6_000;

async function main() {
  const life = benchLifecycle("record-bytecode-order", 120_000);
  const temp = makeTempDir("opengenie-order-");
  life.defer(() => temp.remove());
  const arch = hostArch();
  if (!arch) throw new Error(`no opengenie binary runs on ${process.platform}-${process.arch}`);
  console.log(`building the ${arch} binary to record with …`);
  const [built] = await buildBinaries({ arches: [arch], outDir: temp.path, log: () => {} });
  const orderOut = join(temp.path, "order.txt");

  console.log("running a station through start, the web app, three lights and their commands …");
  const station = await startBenchStation({
    binary: built!.path,
    serveEnv: { BUN_BYTECODE_ORDER_OUT: orderOut },
  });
  life.defer(() => station.stop());
  const get = async (path: string) => {
    const res = await fetch(`${station.httpUrl}${path}`, { headers: { "accept-encoding": "gzip" } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}`);
  };
  await get("/api/health");
  await get("/");
  await get("/app.js");

  const lights: SimulatedDevice[] = [];
  for (const creds of await station.createDevices(LIGHTS, "light")) {
    const light = createSimulatedDevice({
      url: brokerUrl(creds),
      stationId: creds.stationId,
      deviceId: creds.deviceId,
      token: creds.mqttPassword,
      type: "light",
    });
    life.defer(() => light.stop());
    await light.start();
    lights.push(light);
    await station.api("POST", `/api/devices/${creds.deviceId}/commands?wait=5000`, {
      action: "toggle",
      params: {},
    });
  }
  await station.api("GET", "/api/devices");
  await Bun.sleep(IDLE_MS);

  // The runtime writes the order file as the process exits.
  const code = await station.terminate();
  if (code !== 0) throw new Error(`the station exited ${code}`);
  copyFileSync(orderOut, BYTECODE_ORDER_FILE);
  const kb = Math.round(statSync(BYTECODE_ORDER_FILE).size / 1024);
  console.log(`wrote ${BYTECODE_ORDER_FILE} (${kb} KB); build.ts uses it from the next build`);
  await life.finish();
}

if (import.meta.main) await main();
