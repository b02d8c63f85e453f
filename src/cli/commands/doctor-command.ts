import { ConfigError, completeConfig, loadConfig } from "../../config/index.ts";
import { type CheckResult, runDoctorChecks } from "../../doctor/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { parseFlags } from "../parse-flags.ts";

export const doctorHelp = `Usage: opengenie doctor [--json] [--data-dir <dir>]

Checks the data dir, database, station (MQTT, storage), ports, the systemd service, disk
space, the clock, the external broker's login and Bluetooth (python3, bleak, BlueZ, adapter),
and says how to fix what is wrong. Exits 1 when a check fails.
`;

const marks = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" } as const;

export async function doctorCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("doctor", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(doctorHelp);
    return exit(0);
  }
  let config: ReturnType<typeof completeConfig>;
  try {
    config = completeConfig(loadConfig({ flags: { "data-dir": values["data-dir"] }, env: io.env }), io.isTTY);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  // Progress as each check finishes; the BLE probe takes a few seconds.
  const report = (results: CheckResult[]) => {
    if (values.json) return;
    for (const r of results) {
      io.stdout(`[${marks[r.status]}] ${r.name}: ${r.detail}\n`);
      if (r.fix && r.status !== "ok") io.stdout(`       fix: ${r.fix}\n`);
    }
  };
  const all = await runDoctorChecks(config, io.platform, {
    results: report,
    bluetooth: () => {
      if (!values.json) io.stdout("checking Bluetooth (starts the BLE helper for a few seconds)…\n");
    },
  });
  const failed = all.filter((r) => r.status === "fail").length;
  if (values.json) io.stdout(`${JSON.stringify({ ok: failed === 0, checks: all })}\n`);
  else io.stdout(failed === 0 ? "all checks passed\n" : `${failed} check(s) failed; see the fixes above\n`);
  return exit(failed === 0 ? 0 : 1);
}
