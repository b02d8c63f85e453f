import type { Kysely } from "kysely";
import type { Clock, EventBus, StationEvents, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { HandshakeAck } from "../protocol/index.ts";
import {
  type BatchedWriter,
  type BatchedWriterDeps,
  createBatchedWriter,
  type Database,
} from "../storage/index.ts";
import { createAckFlush } from "./ack-flush.ts";
import { createCommandDispatcher } from "./command-dispatcher.ts";
import { createDeviceMessageLimits, type DropReason, EVENTS_PER_SECOND } from "./device-message-limits.ts";
import { MAX_PAYLOAD_BYTES, MAX_STATE_KEYS, parseDeviceMessage, type RejectCode } from "./device-messages.ts";
import { createDeviceRegistry, type LiveDevice, type Transport } from "./device-registry.ts";
import { changedKeys, createLastSeenPersistence, createStateHistory } from "./disk-diet.ts";
import { pruneEventLog } from "./event-log-pruning.ts";

export interface DeviceServiceDeps {
  db: Kysely<Database>;
  runBatch: BatchedWriterDeps["runBatch"];
  dialect?: BatchedWriterDeps["dialect"];
  clock: Clock;
  bus: EventBus<StationEvents>;
  logger: Logger;
  writer?: BatchedWriter;
  sweepMs?: number;
  /** False on all but one of several instances of a station: the sweep and pruning run there. */
  leader?: () => boolean;
  /** Other instances go on serving the devices: stop() leaves their stored presence alone. */
  sharedPresence?: boolean;
  /** Counts device traffic towards the station's memory release (idle-collector.ts). */
  noteTraffic?: ((bytes: number) => void) | undefined;
}

const EPOCH_MS_FLOOR = 1e12;
/** A flooding device gets one log line a minute, not one per dropped message. */
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * The device core: one service whatever the transport. Transports hand it raw payloads; it
 * validates, merges state, logs events, tracks presence and publishes on the bus.
 */
export function createDeviceService(deps: DeviceServiceDeps) {
  const { db, clock, bus, logger } = deps;
  const writer =
    deps.writer ??
    createBatchedWriter({
      runBatch: deps.runBatch,
      dialect: deps.dialect,
      clock,
      logger: logger.child({ service: "writer" }),
    });
  const registry = createDeviceRegistry({ db, clock, bus, writer });
  const commands = createCommandDispatcher({ registry, writer, clock });
  const rejected = new Map<RejectCode, number>();
  const limits = createDeviceMessageLimits();
  const dropLogs = new Map<string, { at: number; suppressed: number }>();
  const history = createStateHistory(writer);
  const lastSeen = createLastSeenPersistence();
  bus.on("device.removed", ({ deviceId }) => {
    history.forget(deviceId);
    lastSeen.forget(deviceId);
  });
  let sweep: TimerHandle | undefined;
  let prune: TimerHandle | undefined;
  const acks = createAckFlush(writer, clock);

  /** The event log is a rolling window, so a Pi's SD card never fills with history. */
  const pruneEvents = () =>
    deps.leader && !deps.leader()
      ? Promise.resolve()
      : pruneEventLog(db, clock.now()).catch((err) => logger.error("pruning old events failed", { err }));

  function reject(deviceId: string, suffix: string, code: RejectCode, reason: string) {
    rejected.set(code, (rejected.get(code) ?? 0) + 1);
    logger.warn("rejected device message", { deviceId, suffix, reason });
  }

  function drop(deviceId: string, reason: DropReason, suffix?: string) {
    limits.count(reason);
    const now = clock.now();
    const last = dropLogs.get(deviceId);
    if (last && now - last.at < DROP_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    logger.warn("dropped device message", {
      deviceId,
      suffix,
      reason:
        reason === "rate" ? `over ${EVENTS_PER_SECOND} events/s` : `payload over ${MAX_PAYLOAD_BYTES} bytes`,
      droppedSinceLastLine: (last?.suppressed ?? 0) + 1,
    });
    dropLogs.set(deviceId, { at: now, suppressed: 0 });
  }

  function setOnline(d: LiveDevice, online: boolean, at: number) {
    if (d.online === online) return;
    d.online = online;
    writer.patchDevice(d.id, { online: online ? 1 : 0, last_seen: d.lastSeen });
    if (d.lastSeen !== null) lastSeen.stored(d.id, d.lastSeen);
    writer.appendEvent(d.id, "status", { online }, at);
    bus.emit("device.status", { deviceId: d.id, online, at });
  }

  function seen(d: LiveDevice, transport: Transport, at: number) {
    d.lastSeen = at;
    if (d.transport !== transport && transport !== "driver") {
      d.transport = transport;
      writer.patchDevice(d.id, { transport });
    }
    if (d.online && lastSeen.due(d.id, at)) writer.patchDevice(d.id, { last_seen: at });
    setOnline(d, true, at);
  }

  /** Offline after 3 missed heartbeats (CONTRACT.md section 3). */
  function sweepPresence() {
    const now = clock.now();
    limits.prune(now);
    history.flushDue(now);
    for (const [deviceId, last] of dropLogs) {
      if (now - last.at < DROP_LOG_INTERVAL_MS) continue;
      if (last.suppressed > 0)
        logger.warn("dropped device messages", { deviceId, droppedSinceLastLine: last.suppressed });
      dropLogs.delete(deviceId);
    }
    if (deps.leader && !deps.leader()) return;
    for (const d of registry.all()) {
      if (!d.online || d.transport === "driver" || d.lastSeen === null) continue;
      if (now - d.lastSeen > 3 * d.heartbeatSec * 1000) setOnline(d, false, now);
    }
  }

  return {
    registry,
    commands,
    writer,

    /** One message from a device on any transport; returns the handshake ack when one is due. */
    async handle(
      deviceId: string,
      transport: Transport,
      suffix: string,
      raw: string,
    ): Promise<HandshakeAck | undefined> {
      deps.noteTraffic?.(raw.length);
      const device = await registry.find(deviceId);
      if (device) {
        const over = limits.check(deviceId, suffix, raw, clock.now());
        if (over) {
          drop(deviceId, over, suffix);
          return undefined;
        }
      }
      const parsed = parseDeviceMessage(suffix, raw);
      if (!parsed.ok) {
        reject(deviceId, suffix, parsed.code, parsed.reason);
        return undefined;
      }
      const now = clock.now();
      if (!device) {
        if (parsed.message.suffix === "handshake") return { status: "unknown_device" };
        reject(deviceId, suffix, "unknown_device", "unknown device");
        return undefined;
      }
      const msg = parsed.message;
      switch (msg.suffix) {
        case "handshake": {
          device.firmwareVersion = msg.payload.firmwareVersion;
          device.heartbeatSec = msg.payload.heartbeatSec ?? device.heartbeatSec;
          writer.patchDevice(deviceId, {
            firmware_version: device.firmwareVersion,
            heartbeat_sec: device.heartbeatSec,
          });
          if (msg.payload.type !== device.type) {
            logger.warn("device reports another type than registered", {
              deviceId,
              registered: device.type,
              reported: msg.payload.type,
            });
          }
          seen(device, transport, now);
          return { status: "ok", serverTime: now };
        }
        case "state": {
          const merged = { ...device.state, ...msg.payload.state };
          if (Object.keys(merged).length > MAX_STATE_KEYS) {
            reject(deviceId, suffix, "state_too_large", `state would grow past ${MAX_STATE_KEYS} keys`);
            return undefined;
          }
          seen(device, transport, now);
          const changed = changedKeys(device.state, msg.payload.state);
          if (changed) {
            device.state = merged;
            writer.setState(deviceId, device.state, now);
            history.record(deviceId, changed, now, () => limits.logStateReport(deviceId, now));
          }
          bus.emit("device.state", { deviceId, state: device.state, at: now });
          return undefined;
        }
        case "event": {
          seen(device, transport, now);
          writer.appendEvent(deviceId, msg.payload.event, msg.payload.data, now);
          bus.emit("device.event", { deviceId, kind: msg.payload.event, data: msg.payload.data, at: now });
          return undefined;
        }
        case "heartbeat": {
          if (msg.payload.status === "offline") setOnline(device, false, now);
          else seen(device, transport, now);
          return undefined;
        }
        case "command/result": {
          seen(device, transport, now);
          commands.onResult(deviceId, msg.payload);
          bus.emit("device.command_result", { deviceId, ...msg.payload });
          return undefined;
        }
      }
    },

    /**
     * Resolves once what the messages handled so far wrote is committed, so a transport can
     * acknowledge them only then (a broker redelivers what a crash left unacknowledged).
     */
    durable: () => acks.durable(),

    /** A transport lost a device's connection without a last will (e.g. /ws/iot socket closed). */
    disconnected(deviceId: string) {
      const d = registry.get(deviceId);
      if (d) setOnline(d, false, clock.now());
    },

    async queryEvents(filter: { deviceId?: string; limit?: number; before?: number }) {
      await writer.flush();
      let q = db
        .selectFrom("events")
        .selectAll()
        .orderBy("id", "desc")
        .limit(Math.min(filter.limit ?? 50, 500));
      if (filter.deviceId) q = q.where("device_id", "=", filter.deviceId);
      // `before` is an event id for paging, or an epoch-ms time: ids never reach 10^12.
      if (filter.before !== undefined) {
        q =
          filter.before >= EPOCH_MS_FLOOR
            ? q.where("at", "<", filter.before)
            : q.where("id", "<", filter.before);
      }
      const rows = await q.execute();
      return rows.map((r) => ({
        id: r.id,
        deviceId: r.device_id,
        kind: r.kind,
        data: JSON.parse(r.data),
        at: r.at,
      }));
    },

    /** A transport refused a device's message itself (e.g. the embedded broker, for its size). */
    countDropped(deviceId: string, reason: DropReason) {
      drop(deviceId, reason);
    },

    stats: () => ({
      rejected: Object.fromEntries(rejected),
      pendingWrites: writer.pending,
      ...limits.stats(),
    }),

    async start() {
      await registry.load();
      writer.start();
      sweep = clock.setInterval(sweepPresence, deps.sweepMs ?? 5000);
      prune = clock.setInterval(() => void pruneEvents(), 3_600_000);
    },

    async stop() {
      clock.clearInterval(sweep);
      clock.clearInterval(prune);
      acks.stop();
      commands.stop();
      const now = clock.now();
      history.flushAll();
      // last_seen is stored lazily (disk-diet.ts): a graceful stop stores the latest.
      for (const d of registry.all()) {
        if (!d.online) continue;
        if (deps.sharedPresence) writer.patchDevice(d.id, { last_seen: d.lastSeen ?? now });
        else writer.patchDevice(d.id, { online: 0, last_seen: d.lastSeen ?? now });
      }
      await writer.stop();
    },
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
