import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * Addresses the kill switch still lets in: loopback, private LAN ranges (RFC 1918, RFC 4193),
 * link-local and the tailnet/CGNAT range 100.64.0.0/10 (RFC 6598). Only the socket's own peer
 * address is classified; X-Forwarded-For is never trusted.
 */
const local = new BlockList();
for (const [net, prefix] of [
  ["127.0.0.0", 8],
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["169.254.0.0", 16],
  ["100.64.0.0", 10],
] as const) {
  local.addSubnet(net, prefix, "ipv4");
}
local.addAddress("::1", "ipv6");
local.addSubnet("fc00::", 7, "ipv6");
local.addSubnet("fe80::", 10, "ipv6");

/** A peer on this machine: 127.0.0.0/8 or ::1, IPv4-mapped or not. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return isIPv4(v4) && v4.startsWith("127.");
  return address === "::1";
}

export function isLocalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isLocalAddress(mapped[1]!);
  if (isIPv4(address)) return local.check(address, "ipv4");
  if (isIPv6(address)) return local.check(address, "ipv6");
  return false;
}
