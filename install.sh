#!/bin/sh
# OpenGenie Station installer (CONTRACT.md section 8; the guide is docs/install.md).
#
#   curl -fsSL https://github.com/opengenie/station/releases/latest/download/install.sh | sudo sh
#
# On 64-bit Debian or Raspberry Pi OS (x86_64, aarch64) it:
#   1. picks the binary for this machine, and refuses 32-bit systems;
#   2. downloads opengenie-linux-<arch> and its .sha256 and checks the checksum before
#      anything is installed;
#   3. creates the system user `opengenie` (in group bluetooth when that group exists) and
#      /var/lib/opengenie (mode 0750, owned by it);
#   4. puts the binary and a hardened opengenie.service in place, each through a temp file
#      and a rename, so an interrupted run never leaves half a file;
#   5. enables and (re)starts the service, waits until /api/health answers and, when an
#      upgrade does not answer, puts the previous binary back;
#   6. prints the address to open and the next step.
# Running it again with the same version changes no file; with a newer one it upgrades in
# place and keeps the data. Everything runs from main() at the very end, so a download cut
# short by the network runs nothing.
set -eu

# Where releases live: <RELEASES>/latest/download/<file>, or <RELEASES>/download/v<version>/<file>.
RELEASES="https://github.com/opengenie/station/releases"

SERVICE=opengenie
SERVICE_USER=opengenie
DATA_DIR=/var/lib/opengenie
UNIT_PATH=/etc/systemd/system/opengenie.service

usage() {
  cat <<'EOF'
Usage: install.sh [--uninstall [--purge]] [--help]

Installs or upgrades OpenGenie Station on 64-bit Debian or Raspberry Pi OS:
  curl -fsSL <url>/install.sh | sudo sh
  curl -fsSL <url>/install.sh | sudo sh -s -- --uninstall

Options:
  --uninstall   stop and remove the service and the binary; keeps /var/lib/opengenie
  --purge       with --uninstall: also remove /var/lib/opengenie and the opengenie user
  -h, --help    show this help

Environment:
  OPENGENIE_VERSION       the version to install, e.g. 1.2.0 (default: the latest release)
  OPENGENIE_DOWNLOAD_URL  where opengenie-linux-<arch>, its .sha256 and VERSION are
                          (https://…, or file:///dir for a local build's dist/)
  OPENGENIE_PREFIX        the binary goes to <prefix>/bin/opengenie (default /usr/local)
  OPENGENIE_ROOT          install into this staging root: nothing outside it is changed,
                          no user is created, systemctl is not run
  OPENGENIE_NO_SYSTEMD=1  install everything but do not run systemctl
  OPENGENIE_HEALTH_TIMEOUT  seconds to wait for /api/health after a start (default 60)
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'opengenie install: warning: %s\n' "$*" >&2; }
fail() {
  printf 'opengenie install: error: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------
# The machine

detect_arch() {
  os="$(uname -s)"
  [ "$os" = "Linux" ] || fail "$os is not supported: OpenGenie runs on 64-bit Linux (Debian, Raspberry Pi OS)"
  machine="$(uname -m)"
  case "$machine" in
    x86_64 | amd64) ARCH=x64 ;;
    aarch64 | arm64)
      ARCH=arm64
      # A 64-bit kernel can run a 32-bit userland (older Raspberry Pi OS images), where a
      # 64-bit binary cannot start.
      if [ -z "$ROOT" ] && have getconf && [ "$(getconf LONG_BIT 2>/dev/null || echo 64)" = "32" ]; then
        fail "32-bit ARM/x86 is not supported: OpenGenie needs a 64-bit OS (this kernel is 64-bit, but the userland is 32-bit; install the 64-bit Raspberry Pi OS)"
      fi
      ;;
    armv6l | armv7l | armv8l | arm | i386 | i486 | i586 | i686 | x86)
      fail "32-bit ARM/x86 is not supported: OpenGenie needs a 64-bit OS (found $machine; on a Raspberry Pi 3, 4 or 5 install the 64-bit Raspberry Pi OS)"
      ;;
    *) fail "$machine is not supported: OpenGenie runs on x86_64 and aarch64" ;;
  esac
  ASSET="opengenie-linux-$ARCH"
}

# systemctl runs only on a real install, unless OPENGENIE_NO_SYSTEMD=1, and only where
# systemd is the init system (the test sd_booted(3) uses).
use_systemd() {
  [ -z "$ROOT" ] && [ "${OPENGENIE_NO_SYSTEMD:-}" != 1 ] && [ -d /run/systemd/system ] && have systemctl
}

has_bluetooth_group() {
  if [ -n "$ROOT" ]; then
    grep -q '^bluetooth:' "$ROOT/etc/group" 2>/dev/null
  else
    getent group bluetooth >/dev/null 2>&1 || grep -q '^bluetooth:' /etc/group 2>/dev/null
  fi
}

# ---------------------------------------------------------------------------------------
# Downloads

# fetch <url> <file>: file:// is a plain copy (wget cannot read it); else curl, else wget.
fetch() {
  case "$1" in
    file://*) cp "${1#file://}" "$2" ;;
    *)
      if have curl; then
        curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"
      elif have wget; then
        wget -q -O "$2" "$1"
      else
        fail "neither curl nor wget is installed: sudo apt-get install curl"
      fi
      ;;
  esac
}

# http_get <url>: the body on stdout, a non-zero status when it does not answer 2xx.
http_get() {
  if have curl; then
    curl -fsS --max-time 3 "$1" 2>/dev/null
  else
    wget -q -T 3 -O - "$1" 2>/dev/null
  fi
}

sha256_of() {
  sha256sum "$1" | {
    read -r sum _rest
    printf '%s' "$sum"
  }
}

# Reads VERSION and the expected checksum from the release; sets NEW_VERSION and EXPECTED.
read_release() {
  NEW_VERSION=""
  if fetch "$BASE/VERSION" "$WORK/VERSION" 2>/dev/null; then
    read -r NEW_VERSION <"$WORK/VERSION" || true
  fi
  if [ -n "$WANTED_VERSION" ]; then
    if [ -z "$NEW_VERSION" ]; then
      warn "$BASE has no VERSION file, so it cannot be checked to be $WANTED_VERSION"
    elif [ "$NEW_VERSION" != "$WANTED_VERSION" ]; then
      fail "$BASE holds version $NEW_VERSION, not the OPENGENIE_VERSION=$WANTED_VERSION asked for"
    fi
  fi
  fetch "$BASE/$ASSET.sha256" "$WORK/$ASSET.sha256" || fail "cannot download $BASE/$ASSET.sha256"
  EXPECTED=""
  read -r EXPECTED _rest <"$WORK/$ASSET.sha256" || true
  case "$EXPECTED" in
    *[!0-9a-f]* | "") fail "$BASE/$ASSET.sha256 does not hold a sha256 checksum" ;;
  esac
  [ "${#EXPECTED}" -eq 64 ] || fail "$BASE/$ASSET.sha256 does not hold a sha256 checksum"
}

# Downloads the binary into the work dir and checks it; nothing is installed before this passes.
download_binary() {
  say "downloading $BASE/$ASSET"
  fetch "$BASE/$ASSET" "$WORK/$ASSET" || fail "cannot download $BASE/$ASSET"
  actual="$(sha256_of "$WORK/$ASSET")"
  if [ "$actual" != "$EXPECTED" ]; then
    fail "checksum mismatch for $ASSET: expected $EXPECTED, got $actual; nothing was installed (a damaged or tampered download; try again)"
  fi
}

# ---------------------------------------------------------------------------------------
# Files

unit_text() {
  cat <<EOF
# Installed by OpenGenie's install.sh; running it again rewrites this file.
# Local changes belong in a drop-in: sudo systemctl edit opengenie
[Unit]
Description=OpenGenie Station (smart-home hub)
Documentation=https://github.com/opengenie/station/blob/main/docs/install.md
Wants=network-online.target
After=network-online.target bluetooth.target

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_USER
EOF
  # BlueZ lets the bluetooth group use the adapter over D-Bus (BLE pairing).
  if has_bluetooth_group; then say "SupplementaryGroups=bluetooth"; fi
  cat <<EOF
Environment=OPENGENIE_DATA_DIR=$DATA_DIR
Environment=LOG_FORMAT=json
WorkingDirectory=$DATA_DIR
ExecStart=$PREFIX/bin/opengenie serve
Restart=on-failure
RestartSec=2
# The station stops gracefully within 10 s (CONTRACT.md section 5).
TimeoutStopSec=15
LimitNOFILE=65536
UMask=0027

# Hardening: the station only needs its data dir, the network and D-Bus (BlueZ). Ports 8080
# and 1883 are unprivileged, so it needs no capability at all (no AmbientCapabilities).
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ReadWritePaths=$DATA_DIR
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
# No MemoryDenyWriteExecute: the JavaScript JIT writes and runs machine code.

[Install]
WantedBy=multi-user.target
EOF
}

# stage <file> <target> <mode>: a copy of the file beside the target, for commit to rename
# over it: a rename in one directory is atomic, so the target is always whole.
stage() {
  mkdir -p "$(dirname "$2")"
  STAGED="$(dirname "$2")/.$(basename "$2").new.$$"
  cp "$1" "$STAGED" || fail "cannot write $STAGED (is the disk full? df -h $(dirname "$2"))"
  chmod "$3" "$STAGED"
}
commit() {
  mv -f "$STAGED" "$1"
  STAGED=""
}

# place <file> <target> <mode>: stage and commit, or return 1, touching nothing, when the
# target already holds these bytes.
place() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 1; fi
  stage "$@"
  commit "$2"
}

ensure_user() {
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    if have useradd; then
      useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "OpenGenie Station" "$SERVICE_USER"
    else
      addgroup -S "$SERVICE_USER"
      adduser -S -D -H -h "$DATA_DIR" -s /sbin/nologin -G "$SERVICE_USER" "$SERVICE_USER"
    fi
    say "created system user $SERVICE_USER"
  fi
  if has_bluetooth_group; then
    case " $(id -nG "$SERVICE_USER") " in
      *" bluetooth "*) ;;
      *) if have usermod; then usermod -a -G bluetooth "$SERVICE_USER"; else adduser "$SERVICE_USER" bluetooth; fi ;;
    esac
  fi
}

ensure_data_dir() {
  mkdir -p "$ROOT$DATA_DIR"
  chmod 0750 "$ROOT$DATA_DIR"
  if [ -z "$ROOT" ]; then chown "$SERVICE_USER:$SERVICE_USER" "$ROOT$DATA_DIR"; fi
}

# ---------------------------------------------------------------------------------------
# The running service

# station_field <key>: a value from the station's run file, which says where it really
# answers (config.json may have changed the port). It is pretty-printed: one key a line.
station_field() {
  sed -n "s/^ *\"$1\": *\"*\([^\",]*\)\"*,*\$/\1/p" "$DATA_DIR/run/station.json" 2>/dev/null
}

# wait_healthy <version>: until /api/health answers ok (with that version, when given), at
# the address the run file names (config.json may have set the host or the port).
wait_healthy() {
  waited=0
  while [ "$waited" -lt "$HEALTH_TIMEOUT" ]; do
    url="$(station_field httpUrl)"
    body="$(http_get "${url:-http://127.0.0.1:8080}/api/health")" || body=""
    case "$body" in
      *'"status":"ok"'*)
        if [ -z "$1" ]; then return 0; fi
        case "$body" in *"\"version\":\"$1\""*) return 0 ;; esac
        ;;
    esac
    sleep 1
    waited=$((waited + 1))
  done
  return 1
}

lan_url() {
  url="$(station_field webUrl)"
  if [ -z "$url" ]; then
    ip="$(hostname -I 2>/dev/null | cut -d' ' -f1)" || ip=""
    url="http://${ip:-$(hostname)}:$(station_field httpPort || true)/"
  fi
  say "$url"
}

# setup_code: the one-time code a station without any account writes to its data dir
# (mode 0600, readable here as root); nothing once the owner exists, or if it looks wrong.
setup_code() {
  code="$(head -n 1 "$ROOT$DATA_DIR/setup-code" 2>/dev/null)" || code=""
  case "$code" in
    "" | *[!A-Za-z0-9_-]*) return 0 ;;
  esac
  say "$code"
}

# Reloads, enables and (re)starts the service, then waits for it; puts the previous binary
# back when the new one does not answer.
restart_service() {
  if [ "$UNIT_CHANGED" = 1 ]; then systemctl daemon-reload; fi
  systemctl enable --quiet "$SERVICE"
  if [ "$BINARY_CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
    systemctl restart "$SERVICE"
  else
    systemctl start "$SERVICE"
  fi
  STOPPED=0
  say "waiting for the station to answer on /api/health"
  if wait_healthy "$NEW_VERSION"; then return 0; fi
  if [ -f "$BIN.previous" ]; then
    systemctl stop "$SERVICE" || true
    mv -f "$BIN.previous" "$BIN"
    systemctl start "$SERVICE"
    if wait_healthy ""; then
      fail "opengenie ${NEW_VERSION:-(new)} did not answer on /api/health within $HEALTH_TIMEOUT s, so the previous binary${OLD_VERSION:+ ($OLD_VERSION)} was put back and is running again. Your data is unchanged. See why: journalctl -u $SERVICE -n 50"
    fi
    fail "opengenie ${NEW_VERSION:-(new)} did not answer on /api/health within $HEALTH_TIMEOUT s; the previous binary was put back but does not answer either. See: journalctl -u $SERVICE -n 50"
  fi
  fail "the station did not answer on /api/health within $HEALTH_TIMEOUT s. See why: journalctl -u $SERVICE -n 50, and run: sudo -u $SERVICE $CLI doctor --data-dir $DATA_DIR"
}

# ---------------------------------------------------------------------------------------
# Install, upgrade, uninstall

install_station() {
  detect_arch
  [ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || fail "run it as root: curl -fsSL $BASE/install.sh | sudo sh"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/opengenie-install.XXXXXX")"

  read_release
  FRESH=1
  BINARY_CHANGED=0
  UNIT_CHANGED=0
  OLD_VERSION=""
  if [ -f "$BIN" ]; then
    FRESH=0
    if [ -z "$ROOT" ]; then OLD_VERSION="$("$BIN" version 2>/dev/null || true)"; fi
  fi
  if [ "$FRESH" = 0 ] && [ "$(sha256_of "$BIN")" = "$EXPECTED" ]; then
    say "opengenie ${NEW_VERSION:-$OLD_VERSION} is already installed at $PREFIX/bin/opengenie"
  else
    download_binary
    BINARY_CHANGED=1
  fi

  # From here on things change: the download is complete and its checksum is right.
  if [ -z "$ROOT" ]; then ensure_user; fi
  ensure_data_dir
  unit_text >"$WORK/opengenie.service"
  SYSTEMD=0
  if use_systemd; then SYSTEMD=1; fi

  if [ "$BINARY_CHANGED" = 1 ]; then
    if [ "$SYSTEMD" = 1 ] && systemctl is-active --quiet "$SERVICE"; then
      systemctl stop "$SERVICE"
      STOPPED=1
    fi
    stage "$WORK/$ASSET" "$BIN" 0755
    # The installed binary stays whole until the rename; the previous one is kept for a rollback.
    if [ "$FRESH" = 0 ]; then ln -f "$BIN" "$BIN.previous" 2>/dev/null || cp -p "$BIN" "$BIN.previous"; fi
    commit "$BIN"
    if [ "$FRESH" = 1 ]; then
      say "installed opengenie ${NEW_VERSION:+$NEW_VERSION }at $PREFIX/bin/opengenie"
    else
      say "upgraded opengenie ${OLD_VERSION:+$OLD_VERSION }→ ${NEW_VERSION:-the new release} at $PREFIX/bin/opengenie"
    fi
  fi
  if place "$WORK/opengenie.service" "$ROOT$UNIT_PATH" 0644; then
    UNIT_CHANGED=1
    say "wrote $UNIT_PATH"
  fi

  if [ "$SYSTEMD" = 1 ]; then restart_service; fi
  rm -f "$BIN.previous"
  summary
}

summary() {
  if [ -n "$ROOT" ]; then
    say "staged opengenie ${NEW_VERSION} into $ROOT (binary, unit, data dir); nothing outside it was changed"
    return 0
  fi
  say ""
  if [ "$SYSTEMD" = 1 ]; then
    say "OpenGenie Station ${NEW_VERSION} is running."
    say "  Open $(lan_url) on a phone or computer on this network."
  elif [ "${OPENGENIE_NO_SYSTEMD:-}" = 1 ]; then
    say "OpenGenie Station ${NEW_VERSION} is installed; OPENGENIE_NO_SYSTEMD=1, so it was not started."
    say "  Start it: sudo systemctl enable --now $SERVICE"
  else
    say "OpenGenie Station ${NEW_VERSION} is installed, but systemd is not running here, so it was not started."
    say "  Start it: sudo -u $SERVICE $CLI serve --data-dir $DATA_DIR"
  fi
  code="$(setup_code)"
  if [ "$SYSTEMD" = 1 ] && [ -n "$code" ]; then
    url="$(lan_url)"
    say "  Next: create your owner account in the browser, with this one-time link:"
    say "    ${url%/}/setup?code=$code"
    say "    (the code is also in $DATA_DIR/setup-code: sudo cat $DATA_DIR/setup-code)"
    say "  Or from this shell:"
    say "    sudo -u $SERVICE $CLI user add <your-name> --role owner --password-stdin --data-dir $DATA_DIR"
    say "    (type the password, press Enter, then Ctrl-D)"
  elif [ "$FRESH" = 1 ]; then
    say "  Next: create your owner account, then sign in with it:"
    say "    sudo -u $SERVICE $CLI user add <your-name> --role owner --password-stdin --data-dir $DATA_DIR"
    say "    (type the password, press Enter, then Ctrl-D)"
  else
    say "  Your data in $DATA_DIR was kept."
  fi
  if ! has_bluetooth_group; then
    say "  Bluetooth pairing needs BlueZ: sudo apt-get install bluez python3-bleak, then run this installer again."
  fi
  say "  Logs: journalctl -u $SERVICE -f    Check: sudo -u $SERVICE $CLI doctor --data-dir $DATA_DIR"
}

uninstall_station() {
  [ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || fail "run it as root: curl -fsSL <url>/install.sh | sudo sh -s -- --uninstall"
  SYSTEMD=0
  if use_systemd; then SYSTEMD=1; fi
  if [ "$SYSTEMD" = 1 ] && [ -f "$UNIT_PATH" ]; then systemctl disable --now --quiet "$SERVICE" || true; fi
  rm -f "$ROOT$UNIT_PATH"
  if [ "$SYSTEMD" = 1 ]; then systemctl daemon-reload; fi
  rm -f "$BIN" "$BIN.previous"
  say "removed $PREFIX/bin/opengenie and $UNIT_PATH"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ROOT$DATA_DIR"
    if [ -z "$ROOT" ] && id -u "$SERVICE_USER" >/dev/null 2>&1; then
      if have userdel; then userdel "$SERVICE_USER"; else deluser "$SERVICE_USER"; fi ||
        warn "could not remove the user $SERVICE_USER (does a process still run as it?)"
    fi
    say "removed $DATA_DIR"
    if [ -z "$ROOT" ]; then say "removed the user $SERVICE_USER"; fi
  else
    say "kept your data in $DATA_DIR (remove it too with: --uninstall --purge)"
  fi
}

cleanup() {
  if [ -n "${STAGED:-}" ]; then rm -f "$STAGED"; fi
  # Stopped for an upgrade that then failed before its start: the old binary is still in place.
  if [ "${STOPPED:-0}" = 1 ]; then
    warn "the upgrade stopped before it was done; starting the installed version again"
    systemctl start "$SERVICE" || true
  fi
  if [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
}

main() {
  UNINSTALL=0
  PURGE=0
  for arg in "$@"; do
    case "$arg" in
      -h | --help)
        usage
        exit 0
        ;;
      --uninstall) UNINSTALL=1 ;;
      --purge) PURGE=1 ;;
      *) fail "unknown option $arg; see install.sh --help" ;;
    esac
  done
  [ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || fail "--purge goes with --uninstall"

  ROOT="${OPENGENIE_ROOT:-}"
  ROOT="${ROOT%/}"
  PREFIX="${OPENGENIE_PREFIX:-/usr/local}"
  PREFIX="${PREFIX%/}"
  case "$ROOT" in "" | /*) ;; *) fail "OPENGENIE_ROOT must be an absolute path" ;; esac
  case "$PREFIX" in /*) ;; *) fail "OPENGENIE_PREFIX must be an absolute path" ;; esac
  WANTED_VERSION="${OPENGENIE_VERSION:-}"
  WANTED_VERSION="${WANTED_VERSION#v}"
  if [ -n "${OPENGENIE_DOWNLOAD_URL:-}" ]; then
    BASE="${OPENGENIE_DOWNLOAD_URL%/}"
  elif [ -n "$WANTED_VERSION" ]; then
    BASE="$RELEASES/download/v$WANTED_VERSION"
  else
    BASE="$RELEASES/latest/download"
  fi
  HEALTH_TIMEOUT="${OPENGENIE_HEALTH_TIMEOUT:-60}"
  BIN="$ROOT$PREFIX/bin/opengenie"
  case "$PREFIX" in
    /usr/local | /usr) CLI=opengenie ;;
    *) CLI="$PREFIX/bin/opengenie" ;;
  esac
  STAGED=""
  WORK=""
  STOPPED=0
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  if [ "$UNINSTALL" = 1 ]; then uninstall_station; else install_station; fi
}

main "$@"
