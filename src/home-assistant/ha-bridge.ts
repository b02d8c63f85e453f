/**
 * The Home Assistant bridge on the station's own MQTT client: publishes discovery configs,
 * states and availability (retained), keeps them current from the bus, and turns commands on
 * the announced topics into device commands through the device core.
 */
import type { Kysely } from "kysely";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService, LiveDevice } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import type { StationMqttClient } from "../mqtt/index.ts";
import type { Database } from "../storage/index.ts";
import { toDeviceCommands } from "./ha-commands.ts";
import {
  configSignature,
  type DiscoveryConfig,
  deviceConfigs,
  type HaContext,
  haState,
  haTopics,
  stationConfigs,
  topicId,
} from "./ha-discovery.ts";
import { createPending } from "./ha-pending.ts";
import { payloadDigest } from "./payload-digest.ts";

export interface HaBridgeDeps extends HaContext {
  client: StationMqttClient;
  db: Kysely<Database>;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  /** Several instances of one station (docs/scale-out.md): each HA command goes to one of them. */
  shareGroup?: string;
}

/** Home Assistant commands being handed to the device core at once, at most. */
const MAX_COMMANDS_IN_FLIGHT = 64;

/** The station's record in `ha_discovery` (its device id is no device's). */
const STATION_ROW = "";

export function createHaBridge(deps: HaBridgeDeps) {
  const { client, db, devices, bus, clock, logger, stationId, prefix } = deps;
  const t = haTopics(stationId);
  const base = t.bridgeAvailability.replace(/\/bridge\/availability$/, "");
  /** Config topic → digest of the payload last published, per device: only changes are sent again. */
  const published = new Map<string, Map<string, number>>();
  /** Per device: the config signature and availability last published (profile of bench/ingest:
   * rebuilding and stringifying every config on each state report was a sixth of the CPU). */
  const lastSent = new Map<string, { signature: string; availability: string }>();
  const offs: (() => void)[] = [];
  let inflight = 0;
  const retained = (topic: string, payload: object | string) =>
    client.publish(topic, payload, { qos: 1, retain: true });

  async function record(deviceId: string, topics: string[]) {
    if (topics.length === 0) return;
    const at = clock.now();
    await db
      .insertInto("ha_discovery")
      .values(topics.map((topic) => ({ topic, device_id: deviceId, published_at: at })))
      .onConflict((oc) => oc.column("topic").doUpdateSet({ device_id: deviceId, published_at: at }))
      .execute();
  }

  async function publishConfigs(deviceId: string, configs: DiscoveryConfig[], force: boolean) {
    const known = published.get(deviceId) ?? new Map<string, number>();
    published.set(deviceId, known);
    const fresh: string[] = [];
    for (const { topic, payload } of configs) {
      const body = JSON.stringify(payload);
      const digest = payloadDigest(body);
      if (!force && known.get(topic) === digest) continue;
      if (!known.has(topic)) fresh.push(topic);
      known.set(topic, digest);
      await retained(topic, body);
    }
    await record(deviceId, force ? configs.map((c) => c.topic) : fresh);
  }

  async function publishDevice(device: LiveDevice, force: boolean) {
    const signature = configSignature(device);
    const availability = device.online ? "online" : "offline";
    const last = lastSent.get(device.id);
    if (force || last?.signature !== signature)
      await publishConfigs(device.id, deviceConfigs(deps, device), force);
    await retained(t.deviceState(device.id), haState(device));
    if (force || last?.availability !== availability)
      await retained(t.deviceAvailability(device.id), availability);
    lastSent.set(device.id, { signature, availability });
  }

  /** Only devices coming, going or changing presence change the station's state. */
  let stationDirty = true;
  async function publishStationState() {
    if (!stationDirty) return;
    stationDirty = false;
    let online = 0;
    for (const d of devices.registry.all()) if (d.online) online++;
    try {
      await retained(t.bridgeState, { version: deps.version, devices_online: online });
    } catch (err) {
      stationDirty = true;
      throw err;
    }
  }

  /** Everything, as after Home Assistant's restart; then clears configs of devices gone. */
  async function publishAll() {
    await retained(t.bridgeAvailability, "online");
    await publishConfigs(STATION_ROW, stationConfigs(deps), true);
    stationDirty = true;
    await publishStationState();
    const list = await devices.registry.list();
    for (const device of list) await publishDevice(device, true);
    const stale = await db.selectFrom("ha_discovery").select(["topic", "device_id"]).execute();
    const current = new Set([...published.values()].flatMap((m) => [...m.keys()]));
    for (const row of stale) {
      if (current.has(row.topic)) continue;
      await retained(row.topic, "");
      await db.deleteFrom("ha_discovery").where("topic", "=", row.topic).execute();
      logger.info("home assistant config cleared", { topic: row.topic, deviceId: row.device_id });
    }
  }

  async function clearDevice(deviceId: string) {
    const rows = await db
      .selectFrom("ha_discovery")
      .select("topic")
      .where("device_id", "=", deviceId)
      .execute();
    const topics = new Set([...rows.map((r) => r.topic), ...(published.get(deviceId)?.keys() ?? [])]);
    for (const topic of topics) await retained(topic, "");
    await retained(t.deviceState(deviceId), "");
    await retained(t.deviceAvailability(deviceId), "");
    await db.deleteFrom("ha_discovery").where("device_id", "=", deviceId).execute();
    published.delete(deviceId);
    lastSent.delete(deviceId);
  }

  async function onCommand(level: string, field: string | undefined, payload: string) {
    const device =
      devices.registry.get(level) ?? [...devices.registry.all()].find((d) => topicId(d.id) === level);
    const deviceId = device?.id ?? level;
    if (!device) {
      logger.warn("home assistant command for no device", { deviceId });
      return;
    }
    const commands = toDeviceCommands(device.type, field, payload);
    if (!Array.isArray(commands)) {
      logger.warn("home assistant command refused", { deviceId, reason: commands.error });
      return;
    }
    for (const { action, params } of commands) {
      try {
        // The device core validates, correlates (requestId) and logs it like any other command.
        const { requestId } = await devices.commands.send(deviceId, action, params);
        logger.info("home assistant command sent", { deviceId, action, requestId });
      } catch (err) {
        logger.warn("home assistant command failed", { deviceId, action, error: (err as Error).message });
        return;
      }
    }
  }

  function onMessage(topic: string, payload: Buffer) {
    if (topic === `${prefix}/status`) {
      if (payload.toString("utf8").trim() === "online") {
        logger.info("home assistant is online; publishing discovery again");
        void pending.all();
      }
      return;
    }
    if (!topic.startsWith(`${base}/device/`)) return;
    const [deviceId, set, field, ...extra] = topic.slice(base.length + "/device/".length).split("/");
    if (!deviceId || set !== "set" || extra.length > 0) return;
    // A flood of commands is cut off here rather than piling up in memory.
    if (inflight >= MAX_COMMANDS_IN_FLIGHT) {
      logger.warn("home assistant command dropped: too many in flight", { deviceId });
      return;
    }
    inflight++;
    void onCommand(deviceId, field, payload.toString("utf8")).finally(() => inflight--);
  }

  const pending = createPending(
    {
      all: publishAll,
      device: async (id) => {
        const d = devices.registry.get(id);
        if (d) await publishDevice(d, false); // configs only when changed: a new key, new firmware
      },
      removed: clearDevice,
      station: publishStationState,
    },
    () => client.connected,
    logger,
  );

  return {
    async start() {
      offs.push(
        client.onMessage(onMessage),
        bus.on("device.added", ({ device }) => {
          stationDirty = true;
          void pending.device(device.id);
        }),
        bus.on("device.state", ({ deviceId }) => void pending.device(deviceId)),
        bus.on("device.status", ({ deviceId }) => {
          stationDirty = true;
          void pending.device(deviceId);
        }),
        bus.on("device.removed", ({ deviceId }) => {
          stationDirty = true;
          void pending.removed(deviceId);
        }),
        // An external broker connection that comes back: the will said offline meanwhile.
        client.onStatus((connected) => {
          if (connected) void pending.all();
        }),
      );
      const share = deps.shareGroup ? `$share/${deps.shareGroup}/` : "";
      await client.subscribe([
        `${prefix}/status`,
        `${share}${base}/device/+/set`,
        `${share}${base}/device/+/set/+`,
      ]);
      await pending.all();
    },
    /** Says the bridge is offline (retained) while the connection is still up. */
    async stop() {
      for (const off of offs.splice(0)) off();
      // A broker that stopped answering must not hold the station's stop.
      await firstOf(pending.idle(), clock, 2000);
      if (client.connected)
        await firstOf(
          retained(t.bridgeAvailability, "offline").catch(() => undefined),
          clock,
          2000,
        );
    },
  };
}

/** Waits for `promise` at most `ms` on the injected clock. */
function firstOf(promise: Promise<unknown>, clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(resolve, ms);
    const done = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

export type HaBridge = ReturnType<typeof createHaBridge>;
