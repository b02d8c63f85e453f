import { Client } from "@proj-airi/server-sdk";
import { z } from "zod";
import { moduleServerEventData } from "../../src/protocol/index.ts";

/** An event as the published client hands it over. */
export interface ModuleEventSeen {
  type: string;
  data: Record<string, unknown>;
  metadata?: { source?: unknown; event?: { id?: string; parentId?: string } };
  route?: unknown;
}

export interface JoinOptions {
  name: string;
  token?: string;
  identity?: { plugin: string; instanceId: string; labels?: Record<string, string> };
  /** Wait until the module is in the registry (false for a client expected to be refused). */
  waitUntilAnnounced?: boolean;
}

let roundTrips = 0;

/**
 * The published `@proj-airi/server-sdk` 0.8.4 client, unchanged, with what a test needs around
 * it: every event it receives in order, waits on them, and a heartbeat round trip that proves
 * the hub has written everything it meant for this client before its pong. Every event of a
 * type the hub sends is checked against the protocol module, so these tests also prove the hub
 * emits the protocol.
 */
export async function joinModule(url: string, options: JoinOptions) {
  const received: ModuleEventSeen[] = [];
  const offProtocol: string[] = [];
  const waiters: (() => void)[] = [];
  const client = new Client({
    url,
    name: options.name,
    token: options.token,
    identity: options.identity,
    onAnyMessage: (message: unknown) => {
      const event = message as ModuleEventSeen;
      const schema = moduleServerEventData[event.type as keyof typeof moduleServerEventData];
      const fromHub = (event.metadata?.source as { plugin?: string } | undefined)?.plugin === "opengenie";
      if (schema && fromHub) {
        const parsed = schema.safeParse(event.data);
        if (!parsed.success) offProtocol.push(`${event.type}: ${z.prettifyError(parsed.error)}`);
      }
      received.push(event);
      for (const w of waiters.splice(0)) w();
    },
    onError: () => {},
  });
  let cursor = 0;

  async function waitFor(
    predicate: (e: ModuleEventSeen) => boolean,
    timeoutMs = 5000,
    what = "a matching event",
  ): Promise<ModuleEventSeen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (offProtocol.length)
        throw new Error(`the hub sent events outside the protocol:\n${offProtocol.join("\n")}`);
      const found = received.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${options.name}: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  const module = {
    client,
    received,
    waitFor,
    /** Events after the last `mark()`. */
    since: () => received.slice(cursor),
    mark() {
      cursor = received.length;
    },
    /** Sends an event as an application would, through the client's own `send`. */
    send(event: { type: string; data: Record<string, unknown>; route?: unknown }) {
      // The client's types list AIRI's own events; a module's own event types are just strings.
      client.send(event as unknown as Parameters<Client["send"]>[0]);
    },
    /**
     * A heartbeat ping and its pong: the hub handles this client's frames in order, so once
     * the pong is here, everything it wrote to this client before is here too.
     */
    async roundTrip() {
      const id = `round-trip-${++roundTrips}`;
      module.send({
        type: "transport:connection:heartbeat",
        data: { kind: "ping", message: "round trip" },
        metadata: { event: { id } },
      } as Parameters<typeof module.send>[0]);
      await waitFor(
        (e) => e.type === "transport:connection:heartbeat" && e.metadata?.event?.parentId === id,
        5000,
        "pong",
      );
    },
    /** The names in the last registry sync this client received. */
    registryNames(): string[] {
      const sync = received.findLast((e) => e.type === "registry:modules:sync");
      return ((sync?.data.modules as { name: string }[] | undefined) ?? []).map((m) => m.name).sort();
    },
    close: () => client.close(),
  };
  if (options.waitUntilAnnounced !== false) {
    await waitFor(
      (e) =>
        e.type === "registry:modules:sync" &&
        (e.data.modules as { name: string }[]).some((m) => m.name === options.name),
      5000,
      "registry sync listing itself",
    );
  }
  return module;
}

export type ModuleTestClient = Awaited<ReturnType<typeof joinModule>>;
