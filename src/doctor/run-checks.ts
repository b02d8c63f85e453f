import type { StationConfig } from "../config/index.ts";
import type { Platform } from "../platform/index.ts";
import { bleChecks } from "./ble-checks.ts";
import type { CheckResult } from "./check.ts";
import { hostChecks } from "./host-checks.ts";
import { stationChecks } from "./station-checks.ts";

export interface DoctorProgress {
  /** Each group of results as it finishes. */
  results?(results: CheckResult[]): void;
  /** Before the Bluetooth probe, which starts the BLE helper for a few seconds. */
  bluetooth?(): void;
}

/**
 * Every check `opengenie doctor` runs, in its order: the data dir and the station, the host
 * (service, disk, clock, broker), then Bluetooth. `POST /api/doctor` runs the same on the
 * station itself.
 */
export async function runDoctorChecks(
  config: StationConfig,
  platform: Platform,
  progress: DoctorProgress = {},
): Promise<CheckResult[]> {
  const all: CheckResult[] = [];
  const report = (results: CheckResult[]) => {
    all.push(...results);
    progress.results?.(results);
  };
  report(await stationChecks(config, platform));
  report(await hostChecks(config, platform));
  progress.bluetooth?.();
  report(await bleChecks(platform, config.dataDir, config.bleBridge));
  return all;
}
