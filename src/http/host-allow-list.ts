import { isIP } from "node:net";

/**
 * Which `Host` headers the station answers (CONTRACT.md section 2): an IP literal, `localhost`,
 * a `.local` name, this machine's hostname, or a name the user listed in OPENGENIE_ALLOWED_HOSTS.
 * A page on another site that re-points its own name at the station's address (DNS rebinding)
 * sends its own name, and is refused.
 */
export function createHostAllowList(options: { hostname: string; allowed?: string }) {
  const names = new Set(
    [options.hostname, ...(options.allowed ?? "").split(",")]
      .map((n) => n.trim().toLowerCase().replace(/\.$/, ""))
      .filter(Boolean),
  );
  return {
    /** `undefined` when allowed; otherwise whether the header is malformed or a foreign name. */
    check(host: string | null): undefined | "malformed" | "foreign" {
      const name = hostName(host);
      if (name === undefined) return "malformed";
      if (isIP(name) !== 0 || name === "localhost" || name.endsWith(".local") || names.has(name)) return;
      return "foreign";
    },
  };
}

/** The name in a `Host` header without its port, lower case; undefined when it is not one. */
function hostName(host: string | null): string | undefined {
  if (!host || host.length > 255) return undefined;
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(host);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? bracketed[1]!.toLowerCase() : undefined;
  const plain = /^([A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!plain) return undefined;
  return plain[1]!.toLowerCase().replace(/\.$/, "");
}

export type HostAllowList = ReturnType<typeof createHostAllowList>;
