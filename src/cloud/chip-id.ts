import { readFileSync } from "node:fs";

/** Where a station's hardware identity is read from (CONTRACT.md section 7); tests pass their own files. */
export interface ChipIdSources {
  serialNumber: string;
  machineId: string;
}

export const DEFAULT_CHIP_ID_SOURCES: ChipIdSources = {
  serialNumber: "/proc/device-tree/serial-number",
  machineId: "/etc/machine-id",
};

function readTrimmed(path: string): string | undefined {
  try {
    // The device tree's strings end in NUL.
    const text = readFileSync(path, "utf8").replace(/\0/g, "").trim();
    return text === "" ? undefined : text.slice(0, 256);
  } catch {
    return undefined;
  }
}

/** The Raspberry Pi's serial number, else the systemd machine id; undefined when neither exists. */
export function readChipId(sources: ChipIdSources = DEFAULT_CHIP_ID_SOURCES): string | undefined {
  return readTrimmed(sources.serialNumber) ?? readTrimmed(sources.machineId);
}
