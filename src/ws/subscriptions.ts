import { randomUUID } from "node:crypto";
import { hasRole } from "../auth/index.ts";
import { type EventBus, StationError, type StationEvents } from "../core/index.ts";
import {
  type Channel,
  type PushChannel,
  type PushData,
  type PushEventName,
  type PushFrame,
  subscribePayloadSchema,
  unsubscribePayloadSchema,
} from "../protocol/index.ts";
import type { AppConnection, Subscription } from "./app-connection.ts";
import { defineOperation, type Operation } from "./operations.ts";

/** One push to replay, `data` typed by `event`. */
export type PushEvent = { [E in PushEventName]: { event: E; data: PushData<E> } }[PushEventName];

/** Lets a channel react to its audience (the BLE scan runs while anyone watches `provisioning`). */
export interface ChannelHooks {
  onFirstSubscriber?(): void;
  onLastUnsubscribed?(): void;
  /** Pushes sent to a new subscriber before anything else (e.g. the current candidates). */
  replay?(): PushEvent[];
}

export interface SubscriptionDeps {
  bus: EventBus<StationEvents>;
  connections: () => Iterable<AppConnection>;
  deviceType: (deviceId: string) => string | undefined;
  /** Read when a channel gains or loses its audience: the hooks station modules contribute. */
  hooks: () => Partial<Record<Channel, ChannelHooks>>;
}

const MAX_SUBSCRIPTIONS = 32;

declare const pushDataBrand: unique symbol;
/** A push's `data` as JSON: serialized once per event, not once per subscriber (bench/fanout.ts). */
type PushDataJson<E extends PushEventName> = string & { readonly [pushDataBrand]: E };

function serializeData<E extends PushEventName>(data: PushData<E>): PushDataJson<E> {
  return JSON.stringify(data) as PushDataJson<E>;
}

/**
 * A `PushFrame<E>` as text, put together around the data serialized once; every other part is
 * an identifier of ours that needs no escaping.
 */
function pushFrame<E extends PushEventName>(
  channel: PushFrame<E>["channel"],
  event: E,
  subscriptionId: PushFrame<E>["subscriptionId"],
  dataJson: PushDataJson<E>,
): string {
  return `{"type":"push","channel":"${channel}","event":"${event}","subscriptionId":"${subscriptionId}","data":${dataJson}}`;
}

/** `subscribe` / `unsubscribe` and the fan-out of bus events to matching subscriptions. */
export function createSubscriptions(deps: SubscriptionDeps) {
  const audience = new Map<Channel, number>();

  function matches(sub: Subscription, deviceId: string | undefined, type: string | undefined): boolean {
    if (sub.filter.deviceId && sub.filter.deviceId !== deviceId) return false;
    if (sub.filter.type && type !== sub.filter.type) return false;
    return true;
  }

  function fanOut<E extends PushEventName>(
    channel: PushChannel<E>,
    event: E,
    data: PushData<E>,
    deviceId?: string,
    options: { coalesce?: boolean; type?: string } = {},
  ) {
    const json = serializeData<E>(data);
    const coalesce = options.coalesce ?? false;
    const type = options.type ?? (deviceId ? deps.deviceType(deviceId) : undefined);
    for (const conn of deps.connections()) {
      for (const sub of conn.subscriptions.values()) {
        if (sub.channel !== channel || !matches(sub, deviceId, type)) continue;
        conn.push(pushFrame(channel, event, sub.id, json), coalesce ? `${sub.id}:${deviceId}` : undefined);
      }
    }
  }

  function changeAudience(channel: Channel, delta: number) {
    const before = audience.get(channel) ?? 0;
    const after = Math.max(0, before + delta);
    audience.set(channel, after);
    if (before === 0 && after > 0) deps.hooks()[channel]?.onFirstSubscriber?.();
    if (before > 0 && after === 0) deps.hooks()[channel]?.onLastUnsubscribed?.();
  }

  // State changes are fanned out once per I/O turn, latest per device: when intake runs ahead of
  // a fan-out to many sockets, frames read together become one push instead of a growing
  // backlog (bench/fanout.ts). State pushes may coalesce (CONTRACT.md section 4).
  const pendingStates = new Map<string, StationEvents["device.state"]>();
  let flushScheduled = false;
  const flushStates = () => {
    flushScheduled = false;
    const batch = [...pendingStates.values()];
    pendingStates.clear();
    for (const d of batch) fanOut("devices", "device.state", d, d.deviceId, { coalesce: true });
  };

  let offs: (() => void)[] = [];
  const subscribeToBus = () => [
    deps.bus.on("device.state", (d) => {
      pendingStates.set(d.deviceId, d);
      if (flushScheduled) return;
      flushScheduled = true;
      // End of this I/O turn, not a timer: the injected clock has nothing to decide here.
      setImmediate(flushStates);
    }),
    deps.bus.on("device.status", (d) => fanOut("devices", "device.status", d, d.deviceId)),
    deps.bus.on("device.added", (d) => fanOut("devices", "device.added", d, d.device.id)),
    deps.bus.on("device.removed", (d) =>
      fanOut("devices", "device.removed", { deviceId: d.deviceId }, d.deviceId, { type: d.type }),
    ),
    deps.bus.on("device.event", (d) => fanOut("events", "device.event", d, d.deviceId)),
    deps.bus.on("provisioning.candidate", (d) => fanOut("provisioning", "provisioning.candidate", d)),
    deps.bus.on("provisioning.result", (d) => fanOut("provisioning", "provisioning.result", d)),
    deps.bus.on("automation.fired", (d) => fanOut("automations", "automation.fired", d)),
    deps.bus.on("automation.failed", (d) => fanOut("automations", "automation.failed", d)),
    deps.bus.on("automation.suspended", (d) => fanOut("automations", "automation.suspended", d)),
    deps.bus.on("automation.notify", (d) => fanOut("automations", "automation.notify", d)),
  ];

  const operations: Operation[] = [
    defineOperation({
      type: "subscribe",
      role: "guest",
      payload: subscribePayloadSchema,
      handle: ({ channel, filter }, conn) => {
        if (channel === "provisioning" && !hasRole(conn.principal.role, "admin")) {
          throw new StationError("FORBIDDEN", "the provisioning channel needs the admin role");
        }
        if (channel === "automations" && !hasRole(conn.principal.role, "member")) {
          throw new StationError("FORBIDDEN", "the automations channel needs the member role");
        }
        if (conn.subscriptions.size >= MAX_SUBSCRIPTIONS) {
          throw new StationError("CONFLICT", `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
        }
        const sub: Subscription = { id: randomUUID(), channel, filter: filter ?? {} };
        conn.subscriptions.set(sub.id, sub);
        changeAudience(channel, 1);
        // Replayed after the result frame, so the client knows the subscriptionId first.
        const replay = deps.hooks()[channel]?.replay?.() ?? [];
        conn.afterReply(() => {
          for (const r of replay) conn.push(pushFrame(channel, r.event, sub.id, serializeData(r.data)));
        });
        return { subscriptionId: sub.id };
      },
    }),
    defineOperation({
      type: "unsubscribe",
      role: "guest",
      payload: unsubscribePayloadSchema,
      handle: ({ subscriptionId }, conn) => {
        const sub = conn.subscriptions.get(subscriptionId);
        if (!sub) throw new StationError("NOT_FOUND", `no subscription ${subscriptionId} on this connection`);
        conn.subscriptions.delete(subscriptionId);
        changeAudience(sub.channel, -1);
        return { ok: true };
      },
    }),
  ];

  return {
    operations,
    start() {
      offs = subscribeToBus();
    },
    /** A closed connection leaves its channels. */
    dropConnection(conn: AppConnection) {
      for (const sub of conn.subscriptions.values()) changeAudience(sub.channel, -1);
      conn.subscriptions.clear();
    },
    stop() {
      for (const off of offs.splice(0)) off();
      pendingStates.clear();
    },
  };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
