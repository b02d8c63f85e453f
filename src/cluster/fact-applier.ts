/**
 * Applies the facts other instances of the station publish (docs/scale-out.md) to this
 * instance's in-memory device core and bus, writing nothing: the producer stored them.
 */
import type { Kysely } from "kysely";
import type { AuthService } from "../auth/index.ts";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import { LAST_SEEN_PERSIST_MS } from "../devices/disk-diet.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Database } from "../storage/index.ts";
import type { FactKind } from "./cluster-facts.ts";

export interface FactApplierDeps {
  bus: EventBus<StationEvents>;
  devices: DeviceService;
  auth: AuthService;
  clock: Clock;
  db: Kysely<Database>;
}

export function createFactApplier(deps: FactApplierDeps) {
  const { bus, devices, auth, clock } = deps;
  // Set while a fact from another instance is emitted on the bus (synchronously), so it is not
  // relayed back and consumers that act once per station (automations) can skip it.
  let applying = false;
  // Last-seen times already told (or heard): only newer ones go out with the next `seen` fact.
  const toldSeen = new Map<string, number>();
  // When each device's presence last changed, here or as told: an older `seen` cannot undo it.
  const statusAt = new Map<string, number>();
  // When each device's state last changed, here or as told: a state fact older than that (two
  // instances' facts crossing, or an old one replayed) is not applied, so all converge on the newest.
  const stateAt = new Map<string, number>();

  function asRemote(fn: () => void) {
    applying = true;
    try {
      fn();
    } finally {
      applying = false;
    }
  }

  async function apply(kind: FactKind, data: Record<string, unknown>) {
    const deviceId = typeof data.deviceId === "string" ? data.deviceId : undefined;
    const d = deviceId ? devices.registry.get(deviceId) : undefined;
    switch (kind) {
      case "device.state": {
        const e = data as StationEvents["device.state"];
        if (!d || e.at < (stateAt.get(d.id) ?? 0)) return;
        stateAt.set(d.id, e.at);
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
      case "user.role_changed": {
        if (typeof data.userId !== "string") return;
        const userId = data.userId;
        auth.forgetCachedUser(userId);
        // The role as stored, not as told: a replayed old fact (say, from when the user was an
        // admin) must not raise the role of their open sockets here.
        const row = await deps.db
          .selectFrom("users")
          .select("role")
          .where("id", "=", userId)
          .executeTakeFirst();
        if (row) asRemote(() => bus.emit("user.role_changed", { userId, role: row.role }));
        return;
      }
      case "command.result":
        if (deviceId && typeof data.requestId === "string" && typeof data.ok === "boolean") {
          devices.commands.settle(deviceId, {
            requestId: data.requestId,
            ok: data.ok,
            ...(typeof data.error === "string" ? { error: data.error } : {}),
          });
        }
        return;
      case "automation.changed":
        if (typeof data.automationId === "string")
          asRemote(() => bus.emit("automation.changed", data as StationEvents["automation.changed"]));
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
      // Stored last_seen lags memory by up to LAST_SEEN_PERSIST_MS (SD-card writes, issue 17).
      if (now - row.last_seen >= 3 * d.heartbeatSec * 1000 + LAST_SEEN_PERSIST_MS) continue;
      d.online = true;
      d.lastSeen = row.last_seen;
      asRemote(() => bus.emit("device.status", { deviceId: d.id, online: true, at: now }));
    }
  }

  return {
    apply,
    adoptStoredPresence,
    toldSeen,
    statusAt,
    stateAt,
    get applying() {
      return applying;
    },
  };
}
