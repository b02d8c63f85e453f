#!/usr/bin/env python3
"""OpenGenie Station BLE helper (CONTRACT.md section 6): a pure transport, no business logic.

The station runs this with /usr/bin/python3 and talks newline-delimited JSON: commands on
stdin, exactly one JSON object per line on stdout, diagnostics on stderr only. It lives in
Python because bleak over BlueZ/D-Bus is far more dependable than Node/Bun BLE bindings.
Written for bleak 0.20 (Debian bookworm's python3-bleak); newer bleak keeps the same API.
"""
import asyncio
import json
import sys


def emit(message):
    """One object per line, flushed at once: the station parses line by line as they arrive."""
    try:
        sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # the station is gone; exiting is handled by the EOF on stdin


def log(text):
    print("ble_bridge: " + text, file=sys.stderr, flush=True)


try:
    from bleak import BleakClient, BleakScanner
    from bleak.exc import BleakError
except ImportError as exc:
    log("cannot import bleak: %s" % exc)
    emit({
        "type": "error",
        "code": "BLEAK_MISSING",
        "message": "Python package bleak is not installed: install python3-bleak "
        "(apt-get install python3-bleak) or pip install bleak, then restart the station",
    })
    sys.exit(1)

try:
    from bleak.exc import BleakDBusError
except ImportError:  # bleak without a BlueZ backend (not Linux)
    BleakDBusError = None

START_BLUETOOTH = "start it with: sudo systemctl enable --now bluetooth"


def classify(exc):
    """Maps a bleak/D-Bus failure to the contract's error code and a message saying what to do."""
    if isinstance(exc, FileNotFoundError):
        return "NO_BLUEZ", (
            "the D-Bus system bus socket is missing (%s): install bluez and dbus "
            "(apt-get install bluez) and %s; in a container mount /run/dbus" % (exc, START_BLUETOOTH))
    if BleakDBusError is not None and isinstance(exc, BleakDBusError):
        name = exc.dbus_error or ""
        if name == "org.freedesktop.DBus.Error.AccessDenied":
            return "NO_BLUEZ", ("D-Bus denied access to BlueZ (%s): run the station as a user in "
                                "the bluetooth group, or as root" % exc)
        if name == "org.bluez.Error.NotReady":
            return "NO_ADAPTER", ("the Bluetooth adapter is powered off (%s): "
                                  "run bluetoothctl power on; check rfkill list" % exc)
        if name.startswith("org.freedesktop.DBus.Error."):
            return "NO_BLUEZ", ("BlueZ is not reachable on D-Bus (%s): install bluez "
                                "(apt-get install bluez) and %s" % (exc, START_BLUETOOTH))
        return "INTERNAL", "BlueZ reported %s; see the station log for details" % exc
    if isinstance(exc, BleakError):
        text = str(exc)
        if "No Bluetooth adapters found" in text or ("adapter" in text and "not found" in text):
            return "NO_ADAPTER", ("no Bluetooth adapter found (%s): plug in a Bluetooth adapter or "
                                  "enable the built-in one, then check hciconfig / rfkill list" % text)
        return "INTERNAL", "bleak error: %s" % text
    return "INTERNAL", "unexpected %s: %s" % (type(exc).__name__, exc)


def report(exc, action):
    code, message = classify(exc)
    log("%s failed: %r" % (action, exc))
    emit({"type": "error", "code": code, "message": message})
    return message


def on_detection(device, adv):
    rssi = getattr(adv, "rssi", None)
    if rssi is None:
        rssi = getattr(device, "rssi", None)
    emit({
        "type": "discovered",
        "address": device.address,
        "name": adv.local_name or device.name or "",
        "rssi": rssi if rssi is not None else -127,
        "service_uuids": list(adv.service_uuids or []),
        "service_data": {uuid: bytes(data).hex() for uuid, data in (adv.service_data or {}).items()},
    })


def encode_payload(payload):
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (dict, list)):
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")
    raise ValueError("payload must be a string or a JSON object")


class Bridge:
    def __init__(self):
        self.scanner = None
        # Scan start/stop must not interleave: BlueZ answers InProgress to overlapping calls.
        self.scan_lock = asyncio.Lock()
        self.writes = set()

    async def start_scan(self, command):
        uuid = command.get("service_uuid")
        if uuid is not None and not isinstance(uuid, str):
            raise ValueError("start_scan.service_uuid must be a string")
        async with self.scan_lock:
            await self._stop_scanner()
            scanner = BleakScanner(detection_callback=on_detection,
                                   service_uuids=[uuid] if uuid else None)
            try:
                await scanner.start()
            except Exception as exc:  # noqa: BLE001 - every failure becomes an error line
                report(exc, "start_scan")
                return
            self.scanner = scanner
            emit({"type": "scan_started"})

    async def stop_scan(self, _command=None):
        async with self.scan_lock:
            try:
                await self._stop_scanner()
            except Exception as exc:  # noqa: BLE001
                report(exc, "stop_scan")
            emit({"type": "scan_stopped"})

    async def _stop_scanner(self):
        scanner, self.scanner = self.scanner, None
        if scanner is not None:
            await scanner.stop()

    def connect_and_write(self, command):
        address = command.get("address")
        characteristic = command.get("characteristic_uuid")
        if not isinstance(address, str) or not isinstance(characteristic, str):
            raise ValueError("connect_and_write needs string address and characteristic_uuid")
        data = encode_payload(command.get("payload"))
        # A write takes seconds (connect, discover services); run it beside the command loop.
        task = asyncio.ensure_future(self._write(address, characteristic, data))
        self.writes.add(task)
        task.add_done_callback(self.writes.discard)

    async def _write(self, address, characteristic, data):
        client = BleakClient(address, timeout=20.0)
        try:
            await client.connect()
            await client.write_gatt_char(characteristic, data, response=True)
        except Exception as exc:  # noqa: BLE001
            code, message = classify(exc)
            log("write to %s failed: %r" % (address, exc))
            if code != "INTERNAL":
                emit({"type": "error", "code": code, "message": message})
            emit({"type": "write_result", "address": address, "ok": False, "error": str(exc) or message})
            return
        finally:
            try:
                await client.disconnect()
            except Exception as exc:  # noqa: BLE001 - the write already succeeded or failed
                log("disconnect from %s: %r" % (address, exc))
        emit({"type": "write_result", "address": address, "ok": True})

    async def handle(self, line):
        try:
            command = json.loads(line)
        except ValueError as exc:
            raise ValueError("command is not JSON (%s): %.200s" % (exc, line)) from None
        if not isinstance(command, dict) or not isinstance(command.get("type"), str):
            raise ValueError("command must be an object with a string type: %.200s" % line)
        kind = command["type"]
        if kind == "start_scan":
            await self.start_scan(command)
        elif kind == "stop_scan":
            await self.stop_scan(command)
        elif kind == "connect_and_write":
            self.connect_and_write(command)
        else:
            raise ValueError("unknown command type %r" % kind)

    async def shutdown(self):
        for task in list(self.writes):
            task.cancel()
        try:
            await self._stop_scanner()
        except Exception as exc:  # noqa: BLE001 - exiting anyway
            log("stop on exit: %r" % exc)


async def main():
    loop = asyncio.get_running_loop()
    bridge = Bridge()
    emit({"type": "ready"})
    while True:
        # A thread read works for pipes, files and terminals alike; connect_read_pipe does not.
        raw = await loop.run_in_executor(None, sys.stdin.buffer.readline)
        if not raw:
            break  # EOF: the station closed our stdin or went away
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            await bridge.handle(line)
        except Exception as exc:  # noqa: BLE001 - a bad line never stops the helper
            log("bad command: %s" % exc)
            emit({"type": "error", "code": "INTERNAL", "message": str(exc)})
    await bridge.shutdown()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
