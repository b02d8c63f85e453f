/**
 * The narrowest Deno permission set `opengenie serve` and every subcommand but `backup` and
 * `restore` need (docs/deno.md "Permissions"); package.json's start:deno spells out the same.
 * - net: the HTTP/WebSocket port, the embedded broker, an external broker, the cloud link
 * - read/write: the data dir (anywhere the user points it), the source and node_modules
 * - env: configuration (CONTRACT 1); run: the BLE helper (any OPENGENIE_BLE_BRIDGE), systemctl
 * - sys: uid/gid (data dir ownership), hostname and networkInterfaces (allowed hosts, the
 *   advertised LAN address), homedir (the default data dir), statfs (free disk space)
 * `backup` and `restore` also need `--allow-all`: node:sqlite refuses the ATTACH behind
 * `VACUUM INTO` and `VACUUM` to a process that lacks any permission.
 */
export const DENO_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys=uid,gid,hostname,networkInterfaces,homedir,statfs",
];

export const DENO_ALL_PERMISSIONS_FOR: ReadonlySet<string> = new Set(["backup", "restore"]);
