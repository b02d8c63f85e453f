import { spawnSync } from "node:child_process";

/**
 * A throwaway network namespace joined to this host by a veth pair, addressed from
 * 198.18.0.0/15 (RFC 2544 benchmarking range): a "remote" client that is neither loopback nor
 * a private LAN, for the kill switch. Traffic stays between this host and its own namespace.
 */
export interface TestNetns {
  name: string;
  hostAddress: string;
  clientAddress: string;
  /** Runs a command inside the namespace (async: an in-process server must keep serving meanwhile). */
  exec(cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  remove(): void;
}

function ip(args: string[]) {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
}

export function canCreateNetns(): boolean {
  const probe = `ogp${process.pid % 100000}`;
  const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (r.status !== 0) return false;
  spawnSync("ip", ["netns", "del", probe]);
  return true;
}

export function createTestNetns(octet: number): TestNetns {
  const tag = `${process.pid % 10000}${octet}`;
  const name = `og-ks-${tag}`;
  const hostIf = `ogh${tag}`.slice(0, 15);
  const nsIf = `ogn${tag}`.slice(0, 15);
  const hostAddress = `198.18.${octet}.1`;
  const clientAddress = `198.18.${octet}.2`;
  ip(["netns", "add", name]);
  try {
    ip(["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    ip(["link", "set", nsIf, "netns", name]);
    ip(["addr", "add", `${hostAddress}/30`, "dev", hostIf]);
    ip(["link", "set", hostIf, "up"]);
    ip(["-n", name, "addr", "add", `${clientAddress}/30`, "dev", nsIf]);
    ip(["-n", name, "link", "set", nsIf, "up"]);
    ip(["-n", name, "link", "set", "lo", "up"]);
  } catch (err) {
    spawnSync("ip", ["netns", "del", name]);
    spawnSync("ip", ["link", "del", hostIf]);
    throw err;
  }
  return {
    name,
    hostAddress,
    clientAddress,
    async exec(cmd) {
      const proc = Bun.spawn(["ip", "netns", "exec", name, ...cmd], { stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { code, stdout, stderr };
    },
    remove() {
      spawnSync("ip", ["netns", "del", name]);
      spawnSync("ip", ["link", "del", hostIf]);
    },
  };
}
