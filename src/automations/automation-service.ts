import { randomUUID } from "node:crypto";
import { StationError, type StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { Automation, AutomationInput, AutomationPatch, RunTrigger } from "../protocol/index.ts";
import { createAutomationRunner, type RunnerDeps, type RunStatus } from "./automation-runner.ts";
import type { StoredAutomation } from "./automation-store.ts";
import { validateDefinition } from "./automation-validation.ts";
import { conditionHolds, crossed } from "./conditions.ts";
import { createScheduler } from "./scheduler.ts";
import type { Zone } from "./zoned-time.ts";

/**
 * Automations a station keeps. Every one is held in memory and each event is matched against
 * each; a house needs tens, so this only stops a script (or a stolen admin token) from growing
 * memory and the per-event work without bound.
 */
export const MAX_AUTOMATIONS = 256;

export interface AutomationServiceDeps extends Omit<RunnerDeps, "suspend" | "devices"> {
  devices: DeviceService;
  zone: Zone;
  /**
   * Several instances of one station (docs/scale-out.md): device-triggered runs happen on the
   * instance that processed the message (not on a fact another instance relayed), time
   * triggers on the leader only.
   */
  cluster?: { remoteFact(): boolean; leader(): boolean };
}

function publicView({ lastFired: _lastFired, ...a }: StoredAutomation): Automation {
  return a;
}

/**
 * Automations: the stored definitions, what triggers them (bus events and the scheduler), the
 * conditions, and the runner. Edits take effect at once; the database is the truth at start.
 */
export function createAutomationService(deps: AutomationServiceDeps) {
  const { clock, bus, store, devices, zone, logger } = deps;
  const automations = new Map<string, StoredAutomation>();
  /** Creates past the cap check whose insert has not finished yet. */
  let creating = 0;
  /** Each device's state as last seen, so `device_state` triggers fire on a crossing only. */
  const lastState = new Map<string, Record<string, unknown>>();
  let offs: (() => void)[] = [];

  const runner = createAutomationRunner({ ...deps, suspend: (id, reason) => void suspend(id, reason) });
  runner.setLookup((id) => automations.get(id));
  const scheduler = createScheduler({
    clock,
    zone,
    logger,
    fire(id, index, scheduledAt, firedThrough) {
      const a = automations.get(id);
      if (!a?.enabled) return;
      if (deps.cluster && !deps.cluster.leader()) return;
      a.lastFired = { ...a.lastFired, [String(index)]: firedThrough };
      store.saveLastFired(id, a.lastFired).catch((err) => logger.error("saving a fire time failed", { err }));
      fireIfConditions(a, { type: "time", scheduledAt });
    },
  });

  async function suspend(id: string, reason: string) {
    const a = automations.get(id);
    if (!a) return;
    a.enabled = false;
    a.suspendedReason = reason;
    a.updatedAt = clock.now();
    scheduler.remove(id);
    bus.emit("automation.suspended", { automationId: id, reason, at: clock.now() });
    await store.update(a).catch((err) => logger.error("saving a suspension failed", { err }));
    bus.emit("automation.changed", { automationId: id });
  }

  function fireIfConditions(a: StoredAutomation, trigger: RunTrigger): RunStatus | undefined {
    if (!a.enabled) return undefined;
    const ctx = { now: clock.now(), zone, state: (id: string) => devices.registry.get(id)?.state };
    if (!a.conditions.every((c) => conditionHolds(c, ctx))) {
      logger.debug("automation conditions do not hold", { automationId: a.id });
      return undefined;
    }
    return runner.trigger(a, trigger);
  }

  /** Each enabled automation with a matching trigger runs once per event. */
  function dispatch(deviceId: string, match: (t: Automation["triggers"][number]) => RunTrigger | undefined) {
    if (deps.cluster?.remoteFact()) return;
    for (const a of automations.values()) {
      for (const t of a.triggers) {
        if (t.type === "time" || t.deviceId !== deviceId) continue;
        const trigger = match(t);
        if (trigger) {
          fireIfConditions(a, trigger);
          break;
        }
      }
    }
  }

  function onState({ deviceId, state }: StationEvents["device.state"]) {
    const before = lastState.get(deviceId) ?? {};
    lastState.set(deviceId, { ...state });
    dispatch(deviceId, (t) =>
      t.type === "device_state" && crossed(t.key, before[t.key], state[t.key], t.op, t.value)
        ? { type: "device_state", deviceId, key: t.key, value: state[t.key] }
        : undefined,
    );
  }

  function onEvent({ deviceId, kind, data }: StationEvents["device.event"]) {
    const d = (data ?? {}) as Record<string, unknown>;
    dispatch(deviceId, (t) =>
      t.type === "device_event" && (!t.event || t.event === kind || t.event === d.event || t.event === d.type)
        ? { type: "device_event", deviceId, event: typeof d.event === "string" ? d.event : kind }
        : undefined,
    );
  }

  function onStatus({ deviceId, online }: StationEvents["device.status"]) {
    dispatch(deviceId, (t) =>
      t.type === "device_status" && t.online === online
        ? { type: "device_status", deviceId, online }
        : undefined,
    );
  }

  function require(id: string): StoredAutomation {
    const a = automations.get(id);
    if (!a) throw new StationError("NOT_FOUND", `no automation ${id}`);
    return a;
  }

  async function reload(id: string) {
    const stored = (await store.all()).find((a) => a.id === id);
    if (!stored) {
      runner.forget(id);
      scheduler.remove(id);
      automations.delete(id);
      return;
    }
    automations.set(id, stored);
    schedule(stored);
  }

  function schedule(a: StoredAutomation, startup = false) {
    if (a.enabled) scheduler.add(a, startup);
    else scheduler.remove(a.id);
  }

  return {
    counters: runner.counters,
    active: runner.active,
    scheduler,
    async start() {
      for (const d of devices.registry.all()) lastState.set(d.id, { ...d.state });
      for (const a of await store.all()) automations.set(a.id, a);
      offs = [
        bus.on("device.state", onState),
        bus.on("device.event", onEvent),
        bus.on("device.status", onStatus),
        bus.on("device.removed", ({ deviceId }) => lastState.delete(deviceId)),
        // Another instance of the station changed one (docs/scale-out.md): read it again.
        bus.on("automation.changed", ({ automationId }) => {
          if (deps.cluster?.remoteFact())
            reload(automationId).catch((err) => logger.error("reloading an automation failed", { err }));
        }),
      ];
      scheduler.start();
      for (const a of automations.values()) {
        try {
          schedule(a, true);
        } catch (err) {
          logger.error("automation could not be scheduled", { automationId: a.id, err });
        }
      }
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      scheduler.stop();
      await runner.stop();
    },
    list: () => [...automations.values()].map(publicView),
    get: (id: string) => publicView(require(id)),
    async create(input: AutomationInput): Promise<Automation> {
      await validateDefinition(input, devices);
      // Counted with the creates still being stored: the check and the insert are apart by an
      // await, and concurrent creates at the cap must not all pass it.
      if (automations.size + creating >= MAX_AUTOMATIONS) {
        throw new StationError(
          "CONFLICT",
          `a station keeps at most ${MAX_AUTOMATIONS} automations; delete one first`,
        );
      }
      const now = clock.now();
      const a: StoredAutomation = {
        id: randomUUID(),
        ...input,
        createdAt: now,
        updatedAt: now,
        lastFired: {},
      };
      creating++;
      try {
        await store.insert(a);
      } finally {
        creating--;
      }
      automations.set(a.id, a);
      schedule(a);
      bus.emit("automation.changed", { automationId: a.id });
      return publicView(a);
    },
    async update(id: string, patch: AutomationPatch): Promise<Automation> {
      const current = require(id);
      const next: StoredAutomation = { ...current, ...patch, updatedAt: clock.now() };
      // Only a changed definition is checked again: an automation whose device was deleted
      // can still be renamed or disabled.
      if (patch.triggers || patch.conditions || patch.actions) await validateDefinition(next, devices);
      if (patch.enabled === true) {
        delete next.suspendedReason;
        runner.resetLimit(id);
      }
      // New triggers start with no fire history.
      if (patch.triggers) next.lastFired = {};
      await store.update(next);
      automations.set(id, next);
      if (!next.enabled || patch.actions || patch.mode) runner.cancel(id, "edited");
      schedule(next);
      bus.emit("automation.changed", { automationId: id });
      return publicView(next);
    },
    async remove(id: string) {
      require(id);
      runner.forget(id);
      scheduler.remove(id);
      automations.delete(id);
      await store.remove(id);
      bus.emit("automation.changed", { automationId: id });
    },
    /** A member asked for a run: conditions are skipped (as Home Assistant's "run actions"). */
    run(id: string, userId: string): RunStatus {
      const a = require(id);
      if (!a.enabled) {
        throw new StationError(
          "CONFLICT",
          `automation ${a.name} is disabled${a.suspendedReason ? ` (${a.suspendedReason})` : ""}; enable it first`,
        );
      }
      return runner.trigger(a, { type: "manual", userId });
    },
    async runs(id: string) {
      require(id);
      return store.runs(id);
    },
    enabledCount: () => [...automations.values()].filter((a) => a.enabled).length,
  };
}

export type AutomationService = ReturnType<typeof createAutomationService>;
