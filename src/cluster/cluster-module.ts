/**
 * Several instances, one station (docs/scale-out.md): what one instance processed, the others
 * learn as facts on the broker and apply to their in-memory device core and bus — never to the
 * database, which the producer wrote — so every instance's clients see every device.
 */
import type { Kysely } from "kysely";
import type { AuthService } from "../auth/index.ts";
import type { Clock, EventBus, StationEvents, TimerHandle } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import type { MqttModule, StationMqttClient } from "../mqtt/index.ts";
import type { UserRecord } from "../protocol/index.ts";
import type { StationModule } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import {
  decodeFact,
  deriveFactKey,
  encodeFact,
  type FactBody,
  type FactKind,
  factFilter,
  factTopic,
} from "./cluster-facts.ts";
import { createLeaderLease } from "./leader-lease.ts";

export interface ClusterModuleDeps {
  stationId: string;
  instanceId: string;
  jwtSecret: string;
  /** The shared database, where the leader lease lives. */
  db: Kysely<Database>;
  bus: EventBus<StationEvents>;
  devices: DeviceService;
  auth: AuthService;
  mqtt: Pick<MqttModule, "mode" | "client">;
  clock: Clock;
  logger: Logger;
  /** How often the devices seen here are told to the others (for the leader's presence sweep). */
  seenIntervalMs?: number;
}

/** Facts published and not yet acknowledged by the broker, at most. */
const MAX_OUTSTANDING_FACTS = 10_000;

/** Bus events that are facts: produced here, told to the others. */
const RELAYED = [
  "device.state",
  "device.status",
  "device.event",
  "device.added",
  "device.removed",
  "device.renamed",
  "session.revoked",
  "user.removed",
  "user.role_changed",
  "device.command_result",
] as const;

function kindOf(event: (typeof RELAYED)[number]): FactKind {
  return event === "device.command_result" ? "command.result" : event;
}

export function createClusterModule(deps: ClusterModuleDeps) {
  const { bus, devices, auth, clock, stationId, instanceId } = deps;
  const logger = deps.logger.child({ component: "cluster" });
  const key = deriveFactKey(deps.jwtSecret);
  const counts = { sent: 0, publishFailed: 0, dropped: 0 };
  let outstanding = 0;
  const applied = new Map<FactKind, number>();
  const rejected = new Map<string, number>();
  // Set while a fact from another instance is emitted on the bus (synchronously), so it is not
  // relayed back and consumers that act once per station (automations) can skip it.
  let applying = false;
  // Last-seen times already told (or heard): only newer ones go out with the next `seen` fact.
  const toldSeen = new Map<string, number>();
  // When each device's presence last changed, here or as told: an older `seen` cannot undo it.
  const statusAt = new Map<string, number>();
  let client: StationMqttClient | undefined;
  const offs: (() => void)[] = [];
  let seenTimer: TimerHandle | undefined;
  // Only an external broker can join instances; the embedded one serves a single process.
  const clustered = deps.mqtt.mode === "external";
  const lease = createLeaderLease({ db: deps.db, instanceId, clock, logger });

  function asRemote(fn: () => void) {
    applying = true;
    try {
      fn();
    } finally {
      applying = false;
    }
  }

  function publish(kind: FactKind, data: Record<string, unknown>) {
    if (!client) return;
    // Memory stays bounded when the broker falls behind: past the cap a fact is dropped and
    // counted (the others catch up with the device's next message), never queued without end.
    if (outstanding >= MAX_OUTSTANDING_FACTS) {
      counts.dropped++;
      return;
    }
    const topic = factTopic(stationId, instanceId, kind);
    const body: FactBody = { instanceId, at: clock.now(), data };
    counts.sent++;
    outstanding++;
    client
      .publish(topic, encodeFact(key, topic, body), { qos: 1 })
      .catch((err: Error) => {
        counts.publishFailed++;
        logger.warn("publishing a fact to the other instances failed", { kind, error: err.message });
      })
      .finally(() => {
        outstanding--;
      });
  }

  function tellSeen() {
    const seen: [string, number][] = [];
    for (const d of devices.registry.all()) {
      if (d.lastSeen === null || (toldSeen.get(d.id) ?? 0) >= d.lastSeen) continue;
      toldSeen.set(d.id, d.lastSeen);
      seen.push([d.id, d.lastSeen]);
    }
    if (seen.length > 0) publish("seen", { devices: seen });
  }

  async function apply(kind: FactKind, data: Record<string, unknown>) {
    const deviceId = typeof data.deviceId === "string" ? data.deviceId : undefined;
    const d = deviceId ? devices.registry.get(deviceId) : undefined;
    switch (kind) {
      case "device.state": {
        const e = data as StationEvents["device.state"];
        if (!d) return;
        d.state = e.state;
        d.lastSeen = Math.max(d.lastSeen ?? 0, e.at);
        toldSeen.set(d.id, d.lastSeen);
        asRemote(() => bus.emit("device.state", e));
        return;
      }
      case "device.status": {
        const e = data as StationEvents["device.status"];
        if (!d) return;
        statusAt.set(d.id, Math.max(statusAt.get(d.id) ?? 0, e.at));
        d.online = e.online;
        if (e.online) d.lastSeen = Math.max(d.lastSeen ?? 0, e.at);
        asRemote(() => bus.emit("device.status", e));
        return;
      }
      case "device.event":
        if (d) asRemote(() => bus.emit("device.event", data as StationEvents["device.event"]));
        return;
      case "device.added":
      case "device.renamed": {
        const id = kind === "device.added" ? (data as StationEvents["device.added"]).device.id : deviceId;
        if (!id) return;
        const live = await devices.registry.reload(id);
        if (!live) return;
        if (kind === "device.added")
          asRemote(() => bus.emit("device.added", data as StationEvents["device.added"]));
        else asRemote(() => bus.emit("device.renamed", data as StationEvents["device.renamed"]));
        return;
      }
      case "device.removed":
        if (!deviceId) return;
        await devices.registry.forget(deviceId);
        asRemote(() => bus.emit("device.removed", data as StationEvents["device.removed"]));
        return;
      case "session.revoked":
        if (typeof data.sessionId === "string") {
          const sessionId = data.sessionId;
          asRemote(() => auth.sessionsRevoked([sessionId]));
        }
        return;
      case "user.removed":
        if (typeof data.userId === "string") {
          auth.forgetCachedUser(data.userId);
          asRemote(() => bus.emit("user.removed", data as StationEvents["user.removed"]));
        }
        return;
      case "user.role_changed":
        if (typeof data.userId === "string") {
          auth.forgetCachedUser(data.userId);
          const e = data as { userId: string; role: UserRecord["role"] };
          asRemote(() => bus.emit("user.role_changed", e));
        }
        return;
      case "command.result":
        if (deviceId && typeof data.requestId === "string" && typeof data.ok === "boolean") {
          devices.commands.settle(deviceId, {
            requestId: data.requestId,
            ok: data.ok,
            ...(typeof data.error === "string" ? { error: data.error } : {}),
          });
        }
        return;
      case "seen":
        for (const entry of Array.isArray(data.devices) ? data.devices : []) {
          const [id, at] = entry as [unknown, unknown];
          const dev = typeof id === "string" ? devices.registry.get(id) : undefined;
          if (!dev || typeof at !== "number") continue;
          if (at > (dev.lastSeen ?? 0)) dev.lastSeen = at;
          toldSeen.set(dev.id, Math.max(toldSeen.get(dev.id) ?? 0, at));
          // Online here too (e.g. after this instance restarted, when every device starts
          // offline), unless a later status change said otherwise.
          if (
            !dev.online &&
            at > (statusAt.get(dev.id) ?? 0) &&
            clock.now() - at < 3 * dev.heartbeatSec * 1000
          ) {
            dev.online = true;
            statusAt.set(dev.id, at);
            asRemote(() => bus.emit("device.status", { deviceId: dev.id, online: true, at }));
          }
        }
        return;
    }
  }

  /**
   * A (re)started instance begins with every device offline; the other instances kept the
   * stored presence up to date, so a device stored online and seen lately is online here too.
   */
  async function adoptStoredPresence() {
    const now = clock.now();
    const rows = await deps.db.selectFrom("devices").select(["id", "online", "last_seen"]).execute();
    for (const row of rows) {
      const d = devices.registry.get(row.id);
      if (!d || d.online || row.online !== 1 || row.last_seen === null) continue;
      if (now - row.last_seen >= 3 * d.heartbeatSec * 1000) continue;
      d.online = true;
      d.lastSeen = row.last_seen;
      asRemote(() => bus.emit("device.status", { deviceId: d.id, online: true, at: now }));
    }
  }

  function onMessage(topic: string, payload: Buffer) {
    if (!topic.startsWith(`station/${stationId}/internal/`)) return;
    const fact = decodeFact(key, stationId, topic, payload);
    if (!fact.ok) {
      rejected.set(fact.reason, (rejected.get(fact.reason) ?? 0) + 1);
      logger.warn("ignored a station-internal message that is not a valid fact", {
        topic,
        reason: fact.reason,
      });
      return;
    }
    if (fact.instanceId === instanceId) return; // our own, already applied
    applied.set(fact.kind, (applied.get(fact.kind) ?? 0) + 1);
    apply(fact.kind, fact.body.data).catch((err) =>
      logger.error("applying a fact failed", { kind: fact.kind, err }),
    );
  }

  const module: StationModule & { readonly applyingRemoteFact: boolean; readonly leader: boolean } = {
    name: "cluster",
    get applyingRemoteFact() {
      return applying;
    },
    /** Whether this instance runs what happens once per station (docs/scale-out.md). */
    get leader() {
      return !clustered || lease.leader;
    },
    metrics: [
      {
        name: "opengenie_instance_info",
        help: "This instance of the station (several may form one station, docs/scale-out.md)",
        type: "gauge",
        labelNames: ["instance_id", "station_id"],
        read: () => [{ labels: { instance_id: instanceId, station_id: stationId }, value: 1 }],
      },
      {
        name: "opengenie_cluster_leader",
        help: "1 while this instance holds the station's leader lease (always 1 with the embedded broker)",
        type: "gauge",
        read: () => (module.leader ? 1 : 0),
      },
      {
        name: "opengenie_cluster_facts_sent_total",
        help: "Facts this instance published for the other instances of the station",
        type: "counter",
        labelNames: ["outcome"],
        read: () => [
          { labels: { outcome: "sent" }, value: counts.sent },
          { labels: { outcome: "failed" }, value: counts.publishFailed },
          { labels: { outcome: "dropped" }, value: counts.dropped },
        ],
      },
      {
        name: "opengenie_cluster_facts_applied_total",
        help: "Facts from the other instances of the station applied here, by kind",
        type: "counter",
        labelNames: ["kind"],
        read: () => [...applied].map(([kind, value]) => ({ labels: { kind }, value })),
      },
      {
        name: "opengenie_cluster_facts_rejected_total",
        help: "Messages on the station-internal topic dropped as not authentic or malformed",
        type: "counter",
        labelNames: ["reason"],
        read: () => [...rejected].map(([reason, value]) => ({ labels: { reason }, value })),
      },
    ],
    async start() {
      if (!clustered) return;
      await adoptStoredPresence();
      await lease.start();
      client = deps.mqtt.client();
      if (!client) return;
      offs.push(client.onMessage(onMessage));
      offs.push(
        bus.on("device.status", ({ deviceId, at }) =>
          statusAt.set(deviceId, Math.max(statusAt.get(deviceId) ?? 0, at)),
        ),
      );
      for (const event of RELAYED) {
        offs.push(
          bus.on(event, (payload) => {
            if (!applying) publish(kindOf(event), payload as Record<string, unknown>);
          }),
        );
      }
      seenTimer = clock.setInterval(tellSeen, deps.seenIntervalMs ?? 2000);
      await client.subscribe([factFilter(stationId)]);
    },
    async stop() {
      await lease.stop();
      clock.clearInterval(seenTimer);
      seenTimer = undefined;
      for (const off of offs.splice(0)) off();
      client = undefined;
    },
  };
  return module;
}

export type ClusterModule = ReturnType<typeof createClusterModule>;
