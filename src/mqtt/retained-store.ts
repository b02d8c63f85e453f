import type { BrokerMessage } from "./broker-sessions.ts";

/**
 * Whether a topic filter matches a topic as aedes (the station's broker until issue 17) decided,
 * with qlobber: `+` is one non-empty level, `#` the rest, zero levels included.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === "#") return true;
    if (i >= t.length) return false;
    // As qlobber: `+` never matches an empty level.
    if (level === "+" ? t[i] === "" : level !== t[i]) return false;
  }
  return f.length === t.length;
}

const hasWildcard = (filter: string) => filter.includes("+") || filter.includes("#");

/**
 * The broker's retained messages, returned as aedes-persistence's in-memory store returns them
 * (its test holds them to it), except the lookup on SUBSCRIBE: that store tests every retained
 * message against every filter, so each device subscribing to its two exact topics scanned all
 * retained messages (Home Assistant keeps 3–5 per device). Connecting 5,000 devices spent 76 %
 * of 100 s in that scan (bench/fleet.ts under --cpu-prof). A filter without wildcards is one
 * Map lookup; filters with wildcards still scan, in the order the messages were first stored.
 */
export function createRetainedStore() {
  const retained = new Map<string, BrokerMessage>();

  function* matching(filter: string): Generator<BrokerMessage> {
    if (!hasWildcard(filter)) {
      const message = retained.get(filter);
      if (message) yield message;
      return;
    }
    for (const [topic, message] of retained) if (topicMatches(filter, topic)) yield message;
  }

  return {
    /**
     * Keeps a copy of a retained PUBLISH as its topic's latest; an empty payload deletes it.
     * The payload is kept as given: a client's is copied out of its chunk by the connection.
     */
    store(message: BrokerMessage): void {
      if (message.payload.length === 0) retained.delete(message.topic);
      else retained.set(message.topic, { ...message });
    },
    /** The retained messages a filter matches. */
    matching,
  };
}
