/**
 * Test-only: a stand-in `bleak` package (the bleak 0.20 API surface ble_bridge.py uses), so
 * the real helper script runs under /usr/bin/python3 without BlueZ or a Bluetooth adapter.
 * STUB_BLEAK_MODE picks how BleakScanner.start() fails, like a real machine would:
 *   ok | no_dbus (no system bus socket) | no_bluetoothd (ServiceUnknown) | no_adapter | boom
 * Everything the fake radio is asked to do is appended as JSON lines to STUB_BLEAK_LOG;
 * BleakClient.connect() fails for STUB_BLEAK_FAIL_ADDRESS.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const EXC_PY = `
class BleakError(Exception):
    pass


class BleakDBusError(BleakError):
    def __init__(self, dbus_error, error_body):
        super().__init__(dbus_error, *error_body)

    @property
    def dbus_error(self):
        return self.args[0]

    def __str__(self):
        return "[%s] %s" % (self.args[0], " ".join(self.args[1:]))
`;

const INIT_PY = `
import asyncio, json, os
from types import SimpleNamespace
from .exc import BleakError, BleakDBusError

MODE = os.environ.get("STUB_BLEAK_MODE", "ok")


def record(**event):
    with open(os.environ["STUB_BLEAK_LOG"], "a") as f:
        f.write(json.dumps(event) + "\\n")


def fail(action):
    if MODE == "no_dbus":
        raise FileNotFoundError(2, "No such file or directory")
    if MODE == "no_bluetoothd":
        raise BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown",
                             ["The name org.bluez was not provided by any .service files"])
    if MODE == "no_adapter":
        raise BleakError("No Bluetooth adapters found.")
    if MODE == "boom":
        raise RuntimeError("radio on fire during " + action)


DEVICES = [
    (SimpleNamespace(address="AA:BB:CC:00:00:01", name="ignored"),
     SimpleNamespace(local_name="OpenGenie-Light-0001", rssi=-52,
                     service_uuids=["0000fff0-0000-1000-8000-00805f9b34fb"],
                     service_data={"0000fff0-0000-1000-8000-00805f9b34fb": b"\\x01\\xab"})),
    (SimpleNamespace(address="AA:BB:CC:00:00:02", name="Fallback-Name"),
     SimpleNamespace(local_name=None, rssi=-67, service_uuids=[], service_data={})),
]


class BleakScanner:
    def __init__(self, detection_callback=None, service_uuids=None, **kwargs):
        self.callback = detection_callback
        self.service_uuids = service_uuids

    async def start(self):
        record(event="scan_start", service_uuids=self.service_uuids)
        fail("scan")
        for device, adv in DEVICES:
            asyncio.get_running_loop().call_soon(self.callback, device, adv)

    async def stop(self):
        record(event="scan_stop")


class BleakClient:
    def __init__(self, address, timeout=10.0, **kwargs):
        self.address = address

    async def connect(self):
        fail("connect")
        if self.address == os.environ.get("STUB_BLEAK_FAIL_ADDRESS"):
            raise BleakError("Device with address %s was not found." % self.address)
        record(event="connect", address=self.address)

    async def write_gatt_char(self, char_uuid, data, response=False):
        record(event="write", address=self.address, characteristic=char_uuid,
               data=bytes(data).decode("utf-8"), response=response)

    async def disconnect(self):
        record(event="disconnect", address=self.address)
`;

/** Writes the stub into `<dir>/bleak/` and returns dir, to be put on PYTHONPATH. */
export function writeBleakStub(dir: string): string {
  mkdirSync(join(dir, "bleak"), { recursive: true });
  writeFileSync(join(dir, "bleak", "__init__.py"), INIT_PY);
  writeFileSync(join(dir, "bleak", "exc.py"), EXC_PY);
  return dir;
}
