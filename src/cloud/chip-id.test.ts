import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readChipId } from "./chip-id.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function files(serial?: string, machineId?: string) {
  const dir = mkdtempSync(join(tmpdir(), "chip-id-"));
  dirs.push(dir);
  const serialNumber = join(dir, "serial-number");
  const machine = join(dir, "machine-id");
  if (serial !== undefined) writeFileSync(serialNumber, serial);
  if (machineId !== undefined) writeFileSync(machine, machineId);
  return { serialNumber, machineId: machine };
}

test("the Pi's serial wins (its trailing NUL dropped); else the machine id; else none", () => {
  expect(readChipId(files("10000000abcdef01\0", "m-id\n"))).toBe("10000000abcdef01");
  expect(readChipId(files(undefined, "0123456789abcdef\n"))).toBe("0123456789abcdef");
  expect(readChipId(files("\0", "fallback\n"))).toBe("fallback");
  expect(readChipId(files())).toBeUndefined();
});
