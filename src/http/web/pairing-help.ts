/** What a pairing failure means and what to do next, in words a person can act on. */

export interface Explained {
  what: string;
  next: string;
}

/** BLE_UNAVAILABLE, by the helper's code (CONTRACT.md section 6) when the station gave one. */
export function explainBleUnavailable(
  detail?: { code?: string; message?: string },
  message?: string,
): Explained {
  const what = message ?? `Bluetooth is not usable: ${detail?.message ?? "the BLE helper is not running"}`;
  switch (detail?.code) {
    case "NO_ADAPTER":
      return {
        what,
        next: "Plug in or switch on a Bluetooth adapter (`bluetoothctl power on`), then reopen this page.",
      };
    case "NO_BLUEZ":
      return {
        what,
        next: "Install and start BlueZ: `sudo apt-get install bluez && sudo systemctl start bluetooth`.",
      };
    case "BLEAK_MISSING":
      return { what, next: "Install the Bluetooth helper's library: `sudo apt-get install python3-bleak`." };
    case "SPAWN_FAILED":
      return {
        what,
        next: "The Bluetooth helper is missing: install Python 3 and bleak (`sudo apt-get install python3 python3-bleak`).",
      };
    default:
      return { what, next: "Open Diagnostics (or run `opengenie doctor`) to see what is missing." };
  }
}

/** A `provisioning.result` error. */
export function explainPairingFailure(error: string): Explained {
  if (/never joined/.test(error))
    return {
      what: "The device got the Wi-Fi details but never joined the station.",
      next: "Check the Wi-Fi name and password (2.4 GHz only) and that the station is reachable from that Wi-Fi, then put the device back in pairing mode and try again.",
    };
  if (/over Bluetooth/.test(error))
    return {
      what: "The Wi-Fi details could not be sent over Bluetooth.",
      next: "Move the device closer to the station, make sure it is still in pairing mode, and try again.",
    };
  return { what: `Pairing failed: ${error}`, next: "Try again; if it keeps failing, open Diagnostics." };
}
