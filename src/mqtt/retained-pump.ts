/**
 * Sends a subscriber the retained messages its filters match as fast as it reads them: Home
 * Assistant's `homeassistant/#` matches three configs per device, 12 MB at 5,000 devices, which
 * written at once would pass the write backlog's bound and cut it off. What is left waits for
 * the socket's drain, or for the next turn once RETAINED_BYTES_PER_TURN went out.
 */
import type { Connection } from "./broker-connection.ts";
import type { BrokerMessage, Session } from "./broker-sessions.ts";
import type { QoS } from "./topic-index.ts";

/** Retained messages sent to one subscriber per turn of the event loop, at most (bytes). */
const RETAINED_BYTES_PER_TURN = 256 * 1024;

export type RetainedCursor = Iterator<[BrokerMessage, QoS]>;
type DeliverRetained = (session: Session, message: BrokerMessage, qos: QoS) => void;

/** Queues more retained messages behind those the connection is still being sent. */
export function queueRetained(connection: Connection, next: RetainedCursor): void {
  const before = connection.retainedToSend;
  connection.retainedToSend = before ? chain(before, next) : next;
}

/** Sends what the socket takes now; called again on drain (and by itself on the next turn). */
export function pumpRetained(connection: Connection, deliver: DeliverRetained): void {
  const cursor = connection.retainedToSend;
  const session = connection.session;
  if (!cursor) return;
  let budget = RETAINED_BYTES_PER_TURN;
  while (connection.state === "connected" && session && !connection.writeBlocked && budget > 0) {
    const next = cursor.next();
    if (next.done) {
      connection.retainedToSend = undefined;
      return;
    }
    const [message, qos] = next.value;
    budget -= message.payload.length + message.topic.length;
    deliver(session, message, qos);
  }
  if (connection.state !== "connected") connection.retainedToSend = undefined;
  else if (!connection.writeBlocked) setImmediate(() => pumpRetained(connection, deliver));
}

function* chain<T>(first: Iterator<T>, second: Iterator<T>): Generator<T> {
  for (let next = first.next(); !next.done; next = first.next()) yield next.value;
  for (let next = second.next(); !next.done; next = second.next()) yield next.value;
}
