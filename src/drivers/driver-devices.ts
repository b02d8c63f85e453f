import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Logger } from "../logging/index.ts";
import type {
  CommandCatalogEntry,
  DeviceDiscoveredData,
  DeviceMetric,
  DeviceUpdatedData,
} from "../protocol/index.ts";
import type { Database } from "../storage/index.ts";
import { type CatalogCompiler, CatalogError, type CommandCatalog } from "./command-catalog.ts";
import type { DriverProblem } from "./driver-messages.ts";

/** Devices one driverKey may keep in the registry: a runaway driver cannot fill the disk with them. */
export const MAX_DEVICES_PER_DRIVER = 1000;

/** A device as its driver announced it. */
export interface DriverDevice {
  /** The station's id. */
  id: string;
  driverKey: string;
  /** The driver's own id (`device_id` on the wire). */
  driverDeviceId: string;
  /** The instance that serves it: the last one that announced it. */
  instanceId: string;
  properties: Record<string, unknown>;
  catalog: CommandCatalog;
  catalogJson: string;
}

/**
 * The station's id for a driver's device: stable for the driverKey and the driver's own id, so
 * a device keeps its id, state and history across driver restarts, instances and reinstalls.
 * No '-' (see newDeviceId), and short enough for a URL path segment.
 */
export function driverDeviceStationId(driverKey: string, driverDeviceId: string): string {
  return `drv_${createHash("sha256").update(`${driverKey}\n${driverDeviceId}`).digest("hex").slice(0, 20)}`;
}

export interface DriverDevicesDeps {
  db: Kysely<Database>;
  devices: DeviceService;
  catalogs: CatalogCompiler;
  clock: Clock;
  logger: Logger;
}

const unknownDevice = (driverDeviceId: string): DriverProblem => ({
  reason: "unknown_device",
  error: "Unknown device.",
  details: [`Announce ${driverDeviceId} with DEVICE_DISCOVERED first.`],
});

/**
 * Devices that drivers announce, in the device core's registry with transport `driver`, plus
 * what only drivers have (their own ids, command catalogs, metrics) in `driver_devices`.
 */
export function createDriverDevices(deps: DriverDevicesDeps) {
  const { db, devices, catalogs, clock, logger } = deps;
  const byId = new Map<string, DriverDevice>();

  function compile(name: string, entries: CommandCatalogEntry[], previous?: DriverDevice) {
    const json = JSON.stringify(entries);
    if (previous && previous.catalogJson === json) return { catalog: previous.catalog, json };
    return { catalog: catalogs.compile(name, entries), json };
  }

  async function save(d: DriverDevice, metrics: DeviceMetric[] | undefined) {
    const row = {
      device_id: d.id,
      driver_key: d.driverKey,
      driver_device_id: d.driverDeviceId,
      instance_id: d.instanceId,
      properties: JSON.stringify(d.properties),
      metrics: JSON.stringify(metrics ?? []),
      updated_at: clock.now(),
    };
    await db
      .insertInto("driver_devices")
      .values(row)
      .onConflict((c) => c.column("device_id").doUpdateSet({ ...row }))
      .execute();
  }

  /** A name and type for a device that exists, as its driver now gives them. */
  async function applyIdentity(id: string, name: string | undefined, type: string | undefined) {
    const live = await devices.registry.require(id);
    if (name !== undefined && name !== live.name) await devices.registry.rename(id, name);
    if (type !== undefined && type !== live.type) {
      live.type = type;
      devices.writer.patchDevice(id, { type });
    }
    return live;
  }

  const online = (id: string) => devices.handle(id, "driver", "heartbeat", '{"status":"online"}');

  return {
    get: (id: string) => byId.get(id),
    all: () => byId.values(),

    /** Reads what drivers announced before the station (re)started; their devices stay offline. */
    async load() {
      byId.clear();
      const rows = await db.selectFrom("driver_devices").selectAll().execute();
      if (rows.length > 0) await catalogs.ready();
      for (const row of rows) {
        const live = devices.registry.get(row.device_id);
        if (!live) continue;
        const properties = JSON.parse(row.properties) as Record<string, unknown>;
        const entries = (properties.commandCatalog ?? []) as CommandCatalogEntry[];
        let catalog: CommandCatalog;
        try {
          catalog = catalogs.compile(live.name, entries);
        } catch (err) {
          logger.warn("a stored command catalog no longer compiles", { deviceId: row.device_id, err });
          catalog = catalogs.compile(live.name, []);
        }
        live.commands = catalog.commands;
        live.metrics = JSON.parse(row.metrics) as DeviceMetric[];
        byId.set(row.device_id, {
          id: row.device_id,
          driverKey: row.driver_key,
          driverDeviceId: row.driver_device_id,
          instanceId: row.instance_id,
          properties,
          catalog,
          catalogJson: JSON.stringify(entries),
        });
      }
    },

    /** Devices served by one instance of a driver. */
    ofInstance(driverKey: string, instanceId: string): DriverDevice[] {
      return [...byId.values()].filter((d) => d.driverKey === driverKey && d.instanceId === instanceId);
    },

    /** `DEVICE_DISCOVERED`: creates the device, or updates it and moves it to this instance. */
    async discover(
      session: { driverKey: string; instanceId: string },
      driverDeviceId: string,
      data: DeviceDiscoveredData,
    ): Promise<DriverProblem | undefined> {
      await catalogs.ready();
      const { driverKey, instanceId } = session;
      const id = driverDeviceStationId(driverKey, driverDeviceId);
      const previous = byId.get(id);
      if (!previous) {
        let count = 0;
        for (const d of byId.values()) if (d.driverKey === driverKey) count++;
        if (count >= MAX_DEVICES_PER_DRIVER) {
          return {
            reason: "limit",
            error: "Too many devices.",
            details: [`A driver may announce at most ${MAX_DEVICES_PER_DRIVER} devices; delete some first.`],
          };
        }
      }
      const properties = data.properties ?? {};
      let compiled: ReturnType<typeof compile>;
      try {
        compiled = compile(data.name, properties.commandCatalog ?? [], previous);
      } catch (err) {
        if (!(err instanceof CatalogError)) throw err;
        return { reason: "invalid", error: "Invalid DEVICE_DISCOVERED data.", details: [err.message] };
      }
      const live = (await devices.registry.find(id))
        ? await applyIdentity(id, data.name, data.deviceType)
        : (
            await devices.registry.create({
              id,
              name: data.name,
              type: data.deviceType,
              transport: "driver",
              driverKey,
            })
          ).device;
      const device: DriverDevice = {
        id,
        driverKey,
        driverDeviceId,
        instanceId,
        properties,
        catalog: compiled.catalog,
        catalogJson: compiled.json,
      };
      live.commands = device.catalog.commands;
      live.metrics ??= [];
      await save(device, live.metrics);
      byId.set(id, device);
      await online(id);
      return undefined;
    },

    /** `DEVICE_UPDATED`: a new name, type or properties (a new catalog replaces the old one). */
    async update(
      session: { driverKey: string; instanceId: string },
      driverDeviceId: string,
      data: DeviceUpdatedData,
    ): Promise<DriverProblem | undefined> {
      await catalogs.ready();
      const device = byId.get(driverDeviceStationId(session.driverKey, driverDeviceId));
      if (!device) return unknownDevice(driverDeviceId);
      const properties = { ...device.properties, ...data.properties };
      const live = await devices.registry.require(device.id);
      let compiled: ReturnType<typeof compile>;
      try {
        compiled = compile(
          data.name ?? live.name,
          (properties.commandCatalog ?? []) as CommandCatalogEntry[],
          device,
        );
      } catch (err) {
        if (!(err instanceof CatalogError)) throw err;
        return { reason: "invalid", error: "Invalid DEVICE_UPDATED data.", details: [err.message] };
      }
      await applyIdentity(device.id, data.name, data.deviceType);
      Object.assign(device, {
        properties,
        catalog: compiled.catalog,
        catalogJson: compiled.json,
        instanceId: session.instanceId,
      });
      live.commands = device.catalog.commands;
      await save(device, live.metrics);
      await online(device.id);
      return undefined;
    },

    /** `STATE_UPDATE`: merged into the state by the device core, which pushes `device.state`. */
    async state(driverKey: string, driverDeviceId: string, state: Record<string, unknown>) {
      const device = byId.get(driverDeviceStationId(driverKey, driverDeviceId));
      if (!device) return unknownDevice(driverDeviceId);
      await devices.handle(device.id, "driver", "state", JSON.stringify({ state }));
      return undefined;
    },

    /** `METRIC_UPDATE`: the device's latest metrics, shown with it. */
    async metrics(driverKey: string, driverDeviceId: string, metrics: DeviceMetric[]) {
      const device = byId.get(driverDeviceStationId(driverKey, driverDeviceId));
      const live = device && devices.registry.get(device.id);
      if (!device || !live) return unknownDevice(driverDeviceId);
      live.metrics = metrics;
      await save(device, metrics);
      return undefined;
    },

    /** The driver's instance registered: its devices are online again. */
    async online(driverKey: string, instanceId: string) {
      for (const d of this.ofInstance(driverKey, instanceId)) await online(d.id);
    },

    /** The instance's session ended: its devices are offline until it comes back. */
    offline(driverKey: string, instanceId: string) {
      for (const d of this.ofInstance(driverKey, instanceId)) devices.disconnected(d.id);
    },

    /** A deleted device is forgotten (its row went with it) until its driver announces it again. */
    forget(id: string) {
      byId.delete(id);
    },
  };
}

export type DriverDevices = ReturnType<typeof createDriverDevices>;
