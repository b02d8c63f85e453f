import { Readable } from "node:stream";

/** What aedes hands the persistence to keep: a retained PUBLISH (payload empty = delete). */
export interface RetainedPacket {
  topic: string;
  payload: Buffer | Uint8Array | string;
  [field: string]: unknown;
}

/**
 * Whether a topic filter matches a topic as aedes' own retained lookup (qlobber) decides: `+` is
 * one non-empty level, `#` the rest, zero levels included.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === "#") return true;
    if (i >= t.length) return false;
    // As qlobber, which aedes matches with: `+` never matches an empty level.
    if (level === "+" ? t[i] === "" : level !== t[i]) return false;
  }
  return f.length === t.length;
}

const hasWildcard = (filter: string) => filter.includes("+") || filter.includes("#");

/**
 * The broker's retained messages, with what aedes-persistence's in-memory store does, except the
 * lookup on SUBSCRIBE: that store tests every retained message against every filter, so each
 * device subscribing to its two exact topics scanned all retained messages (Home Assistant
 * keeps 3–5 per device). Connecting 5,000 devices spent 76 % of 100 s in that scan
 * (bench/fleet.ts under --cpu-prof). A filter without wildcards is now one Map lookup; filters
 * with wildcards still scan, in the same order as before.
 */
export function createRetainedStore() {
  const retained = new Map<string, RetainedPacket>();

  function* byFilter(filter: string): Generator<RetainedPacket> {
    if (!hasWildcard(filter)) {
      const packet = retained.get(filter);
      if (packet) yield packet;
      return;
    }
    for (const [topic, packet] of retained) if (topicMatches(filter, topic)) yield packet;
  }

  function* byFilters(filters: readonly string[]): Generator<RetainedPacket> {
    for (const filter of filters) yield* byFilter(filter);
  }

  function store(pkt: RetainedPacket) {
    const packet = { ...pkt };
    if (packet.payload.length === 0) retained.delete(packet.topic);
    else retained.set(packet.topic, packet);
  }

  return {
    /** Keeps a retained PUBLISH as the latest of its topic; an empty payload deletes it. */
    store,
    /** The retained messages a filter matches. */
    matching: byFilter,
    async storeRetained(pkt: RetainedPacket) {
      store(pkt);
    },
    createRetainedStreamCombi(filters: string[]) {
      return Readable.from(byFilters(filters));
    },
    createRetainedStream(filter: string) {
      return Readable.from(byFilter(filter));
    },
    get size() {
      return retained.size;
    },
  };
}
