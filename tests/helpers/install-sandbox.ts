/**
 * Runs install.sh the way root runs it on a Pi, without touching this machine: each command
 * runs in a private mount namespace where /etc is a copy (so useradd edits the copy),
 * /var/lib, /var/log and /run/systemd are directories of the sandbox, and `systemctl` is a
 * stand-in for systemd (not PID 1 in a container) that runs opengenie.service's ExecStart
 * as its User= with its Environment=, as systemd would. Everything lives in one temp dir.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./spawn-station.ts";
import { makeTempDir } from "./temp-dir.ts";

const MOUNTPOINTS = ["/etc", "/var/lib", "/var/log", "/run/systemd"];
const REQUIRED = ["unshare", "setpriv", "useradd", "curl"];

/** Why install.sh cannot run as root here, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (useradd, chown, mount namespaces)";
  for (const tool of REQUIRED) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const missing = MOUNTPOINTS.find((dir) => !existsSync(dir));
  if (missing) return `${missing} does not exist to mount over`;
  const probe = spawnSync("unshare", [
    "--mount",
    "--propagation",
    "private",
    "mount",
    "-t",
    "tmpfs",
    "t",
    "/mnt",
  ]);
  if (probe.status !== 0) return `cannot create a mount namespace: ${probe.stderr}`;
  return undefined;
}

// Binds the sandbox's directories over the real ones, then runs the command.
const ENTER = `S=$1; shift
mount --bind "$S/etc" /etc && mount --bind "$S/var-lib" /var/lib &&
mount --bind "$S/var-log" /var/log && mount --bind "$S/run-systemd" /run/systemd && exec "$@"`;

const FAKE_SYSTEMCTL = `#!/bin/sh
# A stand-in for systemctl: systemd is not PID 1 in this container.
set -eu
S='@SANDBOX@'
unit=/etc/systemd/system/opengenie.service
wants=/etc/systemd/system/multi-user.target.wants/opengenie.service
echo "$*" >>"$S/systemctl.log"
pid=""
alive() {
  [ -f "$S/service.pid" ] && pid="$(cat "$S/service.pid")" && [ -r "/proc/$pid/stat" ] &&
    ! grep -q ') Z ' "/proc/$pid/stat"
}
stop() {
  if alive; then
    kill -TERM "$pid"
    while alive; do sleep 0.05; done
  fi
  rm -f "$S/service.pid"
}
start() {
  if alive; then return 0; fi
  user="$(sed -n 's/^User=//p' "$unit")"
  dir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
  cmd="$(sed -n 's/^ExecStart=//p' "$unit")"
  envs="$(sed -n 's/^Environment=//p' "$unit")"
  cd "$dir"
  # Split as systemd splits them (no quotes in our unit).
  # shellcheck disable=SC2086
  env -i PATH=/usr/bin:/bin HOME="$dir" $envs setpriv --reuid="$user" --regid="$user" --init-groups $cmd \\
    >>"$S/service.log" 2>&1 &
  echo $! >"$S/service.pid"
}
now=0
verb=""
for arg in "$@"; do
  case "$arg" in
    --quiet) ;;
    --now) now=1 ;;
    -*) echo "fake systemctl: $arg not supported" >&2; exit 1 ;;
    *) if [ -z "$verb" ]; then verb="$arg"; fi ;;
  esac
done
case "$verb" in
  daemon-reload) ;;
  enable) mkdir -p "$(dirname "$wants")" && ln -sf ../opengenie.service "$wants" ;;
  disable) rm -f "$wants"; if [ "$now" = 1 ]; then stop; fi ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  is-active) alive ;;
  *) echo "fake systemctl: $verb not supported" >&2; exit 1 ;;
esac
`;

export interface InstallSandbox {
  dir: string;
  /** OPENGENIE_PREFIX: the binary is <prefix>/bin/opengenie. */
  prefix: string;
  /** The sandbox's path of a path inside it: /etc/passwd → <dir>/etc/passwd. */
  path(inside: string): string;
  /** Runs a command inside (as root), with the stand-in systemctl first on PATH. */
  run(
    cmd: string[],
    options?: { env?: Record<string, string>; stdin?: string },
  ): ReturnType<typeof runCommand>;
  /** Runs a command inside as the opengenie user, as `sudo -u opengenie` would. */
  runAsService(cmd: string[], stdin?: string): ReturnType<typeof runCommand>;
  /** Every systemctl call so far, one a line. */
  systemctlCalls(): string[];
  /** The pid of the station the stand-in runs, if it does. */
  servicePid(): number | undefined;
  remove(): void;
}

export function createInstallSandbox(): InstallSandbox {
  const temp = makeTempDir("opengenie-sandbox-");
  const dir = temp.path;
  // The service user must reach its binary under the prefix.
  chmodSync(dir, 0o755);
  const copy = spawnSync("cp", ["-a", "/etc", join(dir, "etc")], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`cannot copy /etc: ${copy.stderr}`);
  for (const sub of ["var-lib", "var-log", "run-systemd/system", "prefix", "fake-bin"]) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  writeFileSync(join(dir, "fake-bin", "systemctl"), FAKE_SYSTEMCTL.replace("@SANDBOX@", dir));
  chmodSync(join(dir, "fake-bin", "systemctl"), 0o755);
  const mounted: Record<string, string> = {
    "/var/lib": "var-lib",
    "/var/log": "var-log",
    "/run/systemd": "run-systemd",
    "/etc": "etc",
  };
  const path = (inside: string) => {
    for (const [from, to] of Object.entries(mounted)) {
      if (inside === from || inside.startsWith(`${from}/`)) return join(dir, to, inside.slice(from.length));
    }
    throw new Error(`${inside} is not inside the sandbox`);
  };
  const run: InstallSandbox["run"] = (cmd, options = {}) =>
    runCommand(["unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER, "sh", dir, ...cmd], {
      env: { PATH: `${join(dir, "fake-bin")}:${process.env.PATH}`, ...options.env },
      ...(options.stdin !== undefined && { stdin: options.stdin }),
    });
  const servicePid = () => {
    const file = join(dir, "service.pid");
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").trim());
    // A station that exited may linger as a zombie when nothing reaps orphans here.
    const stat = `/proc/${pid}/stat`;
    return existsSync(stat) && !/\) Z /.test(readFileSync(stat, "utf8")) ? pid : undefined;
  };
  return {
    dir,
    prefix: join(dir, "prefix"),
    path,
    run,
    runAsService: (cmd, stdin) =>
      run(["setpriv", "--reuid=opengenie", "--regid=opengenie", "--init-groups", ...cmd], {
        stdin: stdin ?? "",
      }),
    systemctlCalls: () => {
      const log = join(dir, "systemctl.log");
      return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    },
    servicePid,
    remove() {
      // Only the station this sandbox started, by its pid.
      const pid = servicePid();
      if (pid) process.kill(pid, "SIGKILL");
      temp.remove();
    },
  };
}
