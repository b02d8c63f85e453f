/**
 * Who subscribed to what, on the embedded broker. Devices subscribe to exact topics (their own
 * `command` and `handshake/ack`), so an exact filter is one Map lookup per PUBLISH; only the
 * few wildcard filters (the station's, Home Assistant's) are tested against each topic.
 */
import { topicMatches } from "./retained-store.ts";

export type QoS = 0 | 1 | 2;

const hasWildcard = (filter: string) => filter.includes("+") || filter.includes("#");

/** A filter as MQTT-4.7 allows it: `#` only last and alone in its level, `+` alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return false;
    if (level.includes("+") && level !== "+") return false;
  }
  return true;
}

/** A topic a PUBLISH may name: no wildcard, not empty (MQTT-3.3.2-2). */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !hasWildcard(topic) && !topic.includes("\u0000");
}

/** `$` topics are never matched by a filter starting with a wildcard (MQTT-4.7.2-1). */
function wildcardMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  return topicMatches(filter, topic);
}

/** One subscriber of a filter (the usual case: a device's own topics), or several. */
type Subscribers<S> = { one: S; qos: QoS } | Map<S, QoS>;

export function createTopicIndex<S>() {
  // A Map per filter only once a second subscriber comes: 1,000 devices' two exact topics each
  // would otherwise cost 2,000 Maps (issue 17).
  const exact = new Map<string, Subscribers<S>>();
  const wildcards = new Map<string, Subscribers<S>>();
  const tableOf = (filter: string) => (hasWildcard(filter) ? wildcards : exact);

  function each(subscribers: Subscribers<S>, fn: (subscriber: S, qos: QoS) => void) {
    if (subscribers instanceof Map) for (const [subscriber, qos] of subscribers) fn(subscriber, qos);
    else fn(subscribers.one, subscribers.qos);
  }

  return {
    add(filter: string, subscriber: S, qos: QoS): void {
      const table = tableOf(filter);
      const subscribers = table.get(filter);
      if (!subscribers || (!(subscribers instanceof Map) && subscribers.one === subscriber)) {
        table.set(filter, { one: subscriber, qos });
      } else if (subscribers instanceof Map) subscribers.set(subscriber, qos);
      else
        table.set(
          filter,
          new Map([
            [subscribers.one, subscribers.qos],
            [subscriber, qos],
          ]),
        );
    },
    remove(filter: string, subscriber: S): void {
      const table = tableOf(filter);
      const subscribers = table.get(filter);
      if (!subscribers) return;
      if (!(subscribers instanceof Map)) {
        if (subscribers.one === subscriber) table.delete(filter);
        return;
      }
      subscribers.delete(subscriber);
      if (subscribers.size === 0) table.delete(filter);
    },
    /** Each subscriber whose filters match `topic`, once, with the highest QoS it was granted. */
    match(topic: string): Map<S, QoS> {
      const found = new Map<S, QoS>();
      const add = (subscriber: S, qos: QoS) => {
        const before = found.get(subscriber);
        if (before === undefined || before < qos) found.set(subscriber, qos);
      };
      const direct = exact.get(topic);
      if (direct) each(direct, add);
      for (const [filter, subscribers] of wildcards)
        if (wildcardMatches(filter, topic)) each(subscribers, add);
      return found;
    },
    get size(): number {
      let n = 0;
      for (const table of [exact, wildcards])
        for (const subscribers of table.values()) n += subscribers instanceof Map ? subscribers.size : 1;
      return n;
    },
  };
}
