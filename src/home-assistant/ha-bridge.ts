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
  type DiscoveryConfig,
  deviceConfigs,
  type HaContext,
  haState,
  haTopics,
  stationConfigs,
  topicId,
} from "./ha-discovery.ts";

export interface HaBridgeDeps extends HaContext {
  client: StationMqttClient;
  db: Kysely<Database>;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
}

/** The station's record in `ha_discovery` (its device id is no device's). */
const STATION_ROW = "";

export function createHaBridge(deps: HaBridgeDeps) {
  const { client, db, devices, bus, clock, logger, stationId, prefix } = deps;
  const t = haTopics(stationId);
  const base = t.bridgeAvailability.replace(/\/bridge\/availability$/, "");
  /** Config topic → payload last published, per device, so only changes are sent again. */
  const published = new Map<string, Map<string, string>>();
  const offs: (() => void)[] = [];
  // Publishes run one after another, so a removal's empty config never overtakes the config.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = (task: () => Promise<void>) => {
    const next = queue.then(task).catch((err) => logger.warn("home assistant publish failed", { err }));
    queue = next;
    return next;
  };
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
    const known = published.get(deviceId) ?? new Map<string, string>();
    published.set(deviceId, known);
    const fresh: string[] = [];
    for (const { topic, payload } of configs) {
      const body = JSON.stringify(payload);
      if (!force && known.get(topic) === body) continue;
      if (!known.has(topic)) fresh.push(topic);
      known.set(topic, body);
      await retained(topic, body);
    }
    await record(deviceId, force ? configs.map((c) => c.topic) : fresh);
  }

  async function publishDevice(device: LiveDevice, force: boolean) {
    await publishConfigs(device.id, deviceConfigs(deps, device), force);
    await retained(t.deviceState(device.id), haState(device));
    await retained(t.deviceAvailability(device.id), device.online ? "online" : "offline");
  }

  async function publishStationState() {
    const online = [...devices.registry.all()].filter((d) => d.online).length;
    await retained(t.bridgeState, { version: deps.version, devices_online: online });
  }

  /** Everything, as after Home Assistant's restart; then clears configs of devices gone. */
  async function publishAll() {
    await retained(t.bridgeAvailability, "online");
    await publishConfigs(STATION_ROW, stationConfigs(deps), true);
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
        void serial(publishAll);
      }
      return;
    }
    if (!topic.startsWith(`${base}/device/`)) return;
    const [deviceId, set, field, ...extra] = topic.slice(base.length + "/device/".length).split("/");
    if (!deviceId || set !== "set" || extra.length > 0) return;
    void onCommand(deviceId, field, payload.toString("utf8"));
  }

  return {
    async start() {
      offs.push(client.onMessage(onMessage));
      offs.push(
        bus.on("device.added", ({ device }) => {
          const d = devices.registry.get(device.id);
          if (d) void serial(() => publishDevice(d, false));
        }),
        bus.on("device.state", ({ deviceId }) => {
          const d = devices.registry.get(deviceId);
          if (!d) return;
          void serial(async () => {
            await publishConfigs(d.id, deviceConfigs(deps, d), false); // a new sensor key is a new entity
            await retained(t.deviceState(d.id), haState(d));
          });
        }),
        bus.on("device.status", ({ deviceId, online }) => {
          const d = devices.registry.get(deviceId);
          void serial(async () => {
            if (d) await publishConfigs(d.id, deviceConfigs(deps, d), false); // firmware may have changed
            await retained(t.deviceAvailability(deviceId), online ? "online" : "offline");
            await publishStationState();
          });
        }),
        bus.on("device.removed", ({ deviceId }) => void serial(() => clearDevice(deviceId))),
        // An external broker connection that comes back: the will said offline meanwhile.
        client.onStatus((connected) => {
          if (connected) void serial(publishAll);
        }),
      );
      await client.subscribe([`${prefix}/status`, `${base}/device/+/set`, `${base}/device/+/set/+`]);
      if (client.connected) await serial(publishAll);
    },
    /** Says the bridge is offline (retained) while the connection is still up. */
    async stop() {
      for (const off of offs.splice(0)) off();
      await queue;
      if (client.connected) await retained(t.bridgeAvailability, "offline").catch(() => undefined);
    },
    /** For tests and health: publishes settled. */
    idle: () => queue,
  };
}

export type HaBridge = ReturnType<typeof createHaBridge>;
