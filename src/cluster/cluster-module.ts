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
  RELAYED_EVENTS,
} from "./cluster-facts.ts";
import { createFactApplier } from "./fact-applier.ts";
import { createFactBudget } from "./fact-budget.ts";
import { runWhileLeader } from "./leader-gate.ts";
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

export function createClusterModule(deps: ClusterModuleDeps) {
  const { bus, devices, auth, clock, stationId, instanceId } = deps;
  const logger = deps.logger.child({ component: "cluster" });
  const key = deriveFactKey(deps.jwtSecret);
  const counts = { sent: 0, publishFailed: 0, dropped: 0 };
  const budget = createFactBudget();
  const applied = new Map<FactKind, number>();
  const rejected = new Map<string, number>();
  const applier = createFactApplier({ bus, devices, auth, clock, db: deps.db });
  const { toldSeen, statusAt, stateAt } = applier;
  let client: StationMqttClient | undefined;
  const offs: (() => void)[] = [];
  let seenTimer: TimerHandle | undefined;
  // Only an external broker can join instances; the embedded one serves a single process.
  const clustered = deps.mqtt.mode === "external";
  const lease = createLeaderLease({ db: deps.db, instanceId, clock, logger });

  function publish(kind: FactKind, data: Record<string, unknown>) {
    if (!client) return;
    const topic = factTopic(stationId, instanceId, kind);
    const body: FactBody = { instanceId, at: clock.now(), data };
    const payload = encodeFact(key, topic, body);
    // Memory stays bounded when the broker falls behind: past the budget (count and bytes) a
    // device-caused fact is dropped and counted, never queued without end (fact-budget.ts).
    if (!budget.take(kind, payload.length)) {
      counts.dropped++;
      return;
    }
    counts.sent++;
    client
      .publish(topic, payload, { qos: 1 })
      .catch((err: Error) => {
        counts.publishFailed++;
        logger.warn("publishing a fact to the other instances failed", { kind, error: err.message });
      })
      .finally(() => budget.give(payload.length));
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
    applier
      .apply(fact.kind, fact.body.data)
      .catch((err) => logger.error("applying a fact failed", { kind: fact.kind, err }));
  }

  const module: StationModule & {
    readonly applyingRemoteFact: boolean;
    readonly leader: boolean;
    whileLeader(inner: StationModule): StationModule;
  } = {
    name: "cluster",
    /** With several instances, `inner` runs on the leader only; alone, it runs as it is. */
    whileLeader: (inner) =>
      clustered ? runWhileLeader(inner, { leader: () => lease.leader, clock, logger }) : inner,
    get applyingRemoteFact() {
      return applier.applying;
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
      await applier.adoptStoredPresence();
      await lease.start();
      client = deps.mqtt.client();
      if (!client) return;
      offs.push(client.onMessage(onMessage));
      offs.push(
        bus.on("device.status", ({ deviceId, at }) =>
          statusAt.set(deviceId, Math.max(statusAt.get(deviceId) ?? 0, at)),
        ),
        bus.on("device.state", ({ deviceId, at }) =>
          stateAt.set(deviceId, Math.max(stateAt.get(deviceId) ?? 0, at)),
        ),
      );
      for (const [event, kind] of Object.entries(RELAYED_EVENTS) as [
        keyof typeof RELAYED_EVENTS,
        FactKind,
      ][]) {
        offs.push(
          bus.on(event, (payload) => {
            if (!applier.applying) publish(kind, payload as Record<string, unknown>);
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
