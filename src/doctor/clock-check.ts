import { statSync } from "node:fs";
import { BUILD_TIME } from "../version.ts";
import { type CheckResult, fail, ok } from "./check.ts";

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * The time this program cannot predate: the binary's build time, or in a checkout the last
 * change of package.json. undefined when neither is known.
 */
export function referenceTime(): number | undefined {
  if (BUILD_TIME) return Date.parse(BUILD_TIME);
  try {
    return statSync(new URL("../../package.json", import.meta.url)).mtimeMs;
  } catch {
    return undefined;
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A clock a year or more before the build is wrong (a Raspberry Pi has no battery clock and
 * starts from an old date until NTP answers): access tokens look issued in the future, TLS
 * certificates not yet valid, and events get dates no one can find.
 */
export function clockCheck(now: number, reference: number | undefined): CheckResult {
  const name = "clock";
  const shown = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
  if (reference === undefined) return ok("clock", name, `${shown} (no build time to compare with)`);
  if (now < reference - YEAR_MS) {
    return fail(
      "clock",
      name,
      `${shown} is more than a year before this build (${day(reference)}): sign-ins, tokens and TLS fail`,
      "let the system set its time from the network: sudo timedatectl set-ntp true (check: timedatectl status)",
    );
  }
  return ok("clock", name, `${shown} (build ${day(reference)})`);
}
