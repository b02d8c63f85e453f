import type { TimerHandle, TokenBucket } from "../core/index.ts";
import type { SocketConnection } from "../platform/index.ts";
import type { StationDriverFrame } from "../protocol/index.ts";
import type { DriverEvent, DriverProblem } from "./driver-messages.ts";

export interface DriverSocketData {
  kind: "driver";
  connId: string;
  /** The driverKey its token allows; undefined for a token-less driver trusted on loopback. */
  tokenDriverKey?: string;
  connectedAt: number;
}

/** A registered driver session, as the rest of the station sees it. */
export interface DriverSession {
  readonly connId: string;
  readonly driverKey: string;
  readonly instanceId: string;
  readonly name?: string;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  readonly trustedLoopback: boolean;
  /** Sends a frame; false when the socket is gone or its send buffer is full. */
  send(frame: StationDriverFrame): boolean;
}

/** What the socket server hands on: registered sessions and their events. */
export interface DriverHub {
  /** The driverKey a token belongs to, if it is a current one. */
  driverKeyOf(token: string): Promise<string | undefined>;
  registered(session: DriverSession): Promise<void> | void;
  ended(session: DriverSession): void;
  /** One event of a registered session; a problem goes back to the driver as an error frame. */
  handle(session: DriverSession, event: DriverEvent): Promise<DriverProblem | undefined>;
}

/** One open `/driver` socket and what the server keeps about it. */
export interface DriverConnection {
  socket: SocketConnection<DriverSocketData>;
  session?: DriverSession;
  stats: { messagesIn: number; messagesOut: number; dropped: number };
  rate: TokenBucket;
  /** Told it is over its budget since it last got a message through (one notice per burst). */
  rateNoticeSent: boolean;
  awaitingPong: boolean;
  queue: Promise<void>;
  /** Characters of messages waiting in `queue`. */
  queuedChars: number;
  registerTimer?: TimerHandle;
}

/** Registered sessions are keyed `driverKey/instanceId`. */
export const sessionKey = (driverKey: string, instanceId: string) => `${driverKey}/${instanceId}`;
