import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { writeBleakStub } from "../src/ble/bleak-stub.ts";
import { repoRoot, runCommand, stationBin } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const temp = makeTempDir();
afterAll(() => temp.remove());
const bin = stationBin;
const baseEnv = {
  HOME: temp.path,
  OPENGENIE_PORT: "0",
  OPENGENIE_MQTT_PORT: "0",
  STUB_BLEAK_LOG: join(temp.path, "stub-bleak.log"),
};

type Doctor = { ok: boolean; checks: { id: string; status: string; detail: string; fix?: string }[] };
async function doctor(env: Record<string, string>, dataDir = join(temp.path, "data")) {
  const r = await runCommand([...bin, "doctor", "--json", "--data-dir", dataDir], {
    env: { ...baseEnv, ...env },
  });
  return { code: r.code, report: JSON.parse(r.stdout) as Doctor };
}
const byId = (report: Doctor, id: string) => report.checks.find((c) => c.id === id);

test("doctor with a working BLE bridge passes (a stopped station is only a warning)", async () => {
  const { code, report } = await doctor({
    OPENGENIE_BLE_BRIDGE: `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")}`,
  });
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
  expect(byId(report, "station")?.status).toBe("warn");
  expect(byId(report, "database")?.status).toBe("ok");
  expect(byId(report, "ble.adapter")).toMatchObject({ status: "ok", detail: "scan started" });
});

test("doctor maps each BLE failure to its fix, running the real helper under /usr/bin/python3", async () => {
  const stub = join(temp.path, "stub");
  mkdirSync(stub, { recursive: true });
  writeBleakStub(stub);
  const noAdapter = await doctor({ PYTHONPATH: stub, STUB_BLEAK_MODE: "no_adapter" });
  expect(noAdapter.code).toBe(1);
  expect(byId(noAdapter.report, "ble.bleak")?.status).toBe("ok");
  expect(byId(noAdapter.report, "ble.bluez")?.status).toBe("ok");
  expect(byId(noAdapter.report, "ble.adapter")).toMatchObject({ status: "fail" });
  expect(byId(noAdapter.report, "ble.adapter")?.fix).toContain("rfkill");

  const noBluez = await doctor({ PYTHONPATH: stub, STUB_BLEAK_MODE: "no_dbus" });
  expect(byId(noBluez.report, "ble.bluez")?.fix).toContain("apt-get install bluez");
  expect(byId(noBluez.report, "ble.adapter")?.status).toBe("skip");

  const broken = join(temp.path, "broken", "bleak");
  mkdirSync(broken, { recursive: true });
  writeFileSync(join(broken, "__init__.py"), "raise ImportError('bleak is not installed')\n");
  const missing = await doctor({ PYTHONPATH: join(temp.path, "broken") });
  expect(byId(missing.report, "ble.bleak")).toMatchObject({
    status: "fail",
    fix: "sudo apt-get install python3-bleak",
  });
}, 30_000);

/** Listens on a free loopback port until closed: a port some other process holds. */
async function occupyPort() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("doctor reports a busy port and a helper command that does not exist", async () => {
  const http = await occupyPort();
  const mqtt = await occupyPort();
  const env = {
    OPENGENIE_BLE_BRIDGE: "/nonexistent/helper",
    OPENGENIE_HOST: "127.0.0.1",
    OPENGENIE_PORT: String(http.port),
    OPENGENIE_MQTT_PORT: String(mqtt.port),
  };
  let busy: Awaited<ReturnType<typeof doctor>>;
  try {
    busy = await doctor(env);
  } finally {
    await http.close();
    await mqtt.close();
  }
  expect(busy.code).toBe(1);
  expect(byId(busy.report, "port.http")).toMatchObject({
    status: "fail",
    detail: `${http.port} is in use`,
    fix: "pass --port or stop the other process",
  });
  expect(byId(busy.report, "port.mqtt")).toMatchObject({
    status: "fail",
    detail: `${mqtt.port} is in use`,
    fix: "pass --mqtt-port or --mqtt-url (is Mosquitto running?)",
  });
  expect(byId(busy.report, "ble.bleak")).toMatchObject({
    status: "fail",
    fix: expect.stringContaining("OPENGENIE_BLE_BRIDGE"),
  });

  // The same ports once released are reported free: it was the listener that made them busy.
  const free = await doctor(env);
  expect(byId(free.report, "port.http")).toMatchObject({ status: "ok", detail: `${http.port} is free` });
  expect(byId(free.report, "port.mqtt")).toMatchObject({ status: "ok", detail: `${mqtt.port} is free` });
}, 30_000);

test("doctor names a damaged database and the way back (restore a backup)", async () => {
  const dataDir = join(temp.path, "damaged");
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "opengenie.db"));
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const insert = db.query("INSERT INTO t (v) VALUES (?)");
  for (let i = 0; i < 2000; i++) insert.run(`value ${i}`);
  db.close();
  // Overwrite cell pointers inside one of the table's pages: the file still opens, the check fails.
  const fd = openSync(join(dataDir, "opengenie.db"), "r+");
  writeSync(fd, Buffer.alloc(100, 0xff), 0, 100, 4096 * 5 + 200);
  closeSync(fd);
  const { code, report } = await doctor(
    { OPENGENIE_BLE_BRIDGE: `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")}` },
    dataDir,
  );
  expect(code).toBe(1);
  const check = byId(report, "database");
  expect(check).toMatchObject({ status: "fail", fix: "restore a backup with 'opengenie restore <file>'" });
  // SQLite lists the damaged cells, or stops at the first with "malformed", depending on the page.
  expect(check?.detail).toMatch(/out of range|malformed/);
});
