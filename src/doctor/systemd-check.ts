import type { Platform } from "../platform/index.ts";
import { type CheckResult, fail, ok, skip, warn } from "./check.ts";

/** The unit install.sh writes (CONTRACT.md section 8). */
export const UNIT = "opengenie.service";
const LOGS = "see why: journalctl -u opengenie -n 50";

/** What `systemctl show` says about the unit, or why it could not be asked. */
export type UnitState = { kind: "state"; properties: Record<string, string> } | { kind: "none"; why: string };

/** Runs `systemctl show`; where systemd is not the init system there is nothing to check. */
export async function readUnitState(platform: Platform, timeoutMs = 5000): Promise<UnitState> {
  let proc: ReturnType<Platform["spawn"]>;
  try {
    proc = platform.spawn([
      "systemctl",
      "show",
      UNIT,
      "--property=LoadState,ActiveState,SubState,UnitFileState,NRestarts,Result",
    ]);
  } catch {
    return { kind: "none", why: "no systemd here (systemctl not found)" };
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]).finally(() => clearTimeout(timer));
  if (code !== 0) {
    // "System has not been booted with systemd as init system (PID 1). Can't operate."
    return {
      kind: "none",
      why: `systemd is not running here (${stderr.trim().split("\n")[0] || `exit ${code}`})`,
    };
  }
  const properties: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) properties[line.slice(0, at)] = line.slice(at + 1);
  }
  return { kind: "state", properties };
}

/** The unit's state as a doctor line: running and enabled is ok, a crash loop is a failure. */
export function systemdCheck(unit: UnitState): CheckResult {
  const name = "systemd service";
  if (unit.kind === "none") return skip("systemd", name, unit.why);
  const p = unit.properties;
  if (p.LoadState !== "loaded") {
    return skip("systemd", name, `${UNIT} is not installed (install.sh installs it)`);
  }
  const restarts = Number(p.NRestarts ?? "0") || 0;
  const state = `${p.ActiveState} (${p.SubState}), ${p.UnitFileState}`;
  if (p.ActiveState === "active") {
    if (p.UnitFileState !== "enabled") {
      return warn("systemd", name, `${state}: it will not start at boot`, "sudo systemctl enable opengenie");
    }
    if (restarts > 0) {
      return warn("systemd", name, `${state}, but restarted ${restarts} time(s) after failing`, LOGS);
    }
    return ok("systemd", name, state);
  }
  if (p.ActiveState === "failed" || p.SubState === "auto-restart") {
    return fail(
      "systemd",
      name,
      `${state}, result ${p.Result}${restarts ? `, ${restarts} restart(s)` : ""}`,
      `${LOGS}; then sudo systemctl restart opengenie`,
    );
  }
  return warn("systemd", name, `${state}: not running`, "sudo systemctl enable --now opengenie");
}
