import type { StationConfig } from "../config/index.ts";
import type { Platform } from "../platform/index.ts";
import { brokerCheck } from "./broker-check.ts";
import type { CheckResult } from "./check.ts";
import { clockCheck, referenceTime } from "./clock-check.ts";
import { diskCheck } from "./disk-check.ts";
import { readUnitState, systemdCheck } from "./systemd-check.ts";

/** What an installed station needs of its machine: the service, disk space, the clock, the broker. */
export async function hostChecks(config: StationConfig, platform: Platform): Promise<CheckResult[]> {
  return [
    systemdCheck(await readUnitState(platform)),
    diskCheck(config.dataDir),
    clockCheck(Date.now(), referenceTime()),
    await brokerCheck(config),
  ];
}
