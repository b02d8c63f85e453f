import type { Kysely } from "kysely";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import { lazyRoutes } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { StationModule } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import { createAutomationService } from "./automation-service.ts";
import { createAutomationStore } from "./automation-store.ts";
import { lazyZone, systemTimeZone } from "./zoned-time.ts";

export interface AutomationsModuleDeps {
  db: Kysely<Database>;
  devices: DeviceService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  /** IANA zone for time triggers and conditions (OPENGENIE_TIMEZONE); unset = the system's. */
  timeZone?: string;
  /** Loop protection's limit (tests lower it). */
  maxRunsPerMinute?: number;
  commandWaitMs?: number;
  /** Where runs happen when several instances form the station (docs/scale-out.md). */
  cluster?: { remoteFact(): boolean; leader(): boolean };
}

/**
 * Automations and the scheduler (CONTRACT.md section 2, docs/automations.md): `/api/automations…`,
 * pushes on the `/ws` channel `automations` (through the bus), and their metrics.
 */
export function createAutomationsModule(deps: AutomationsModuleDeps) {
  const zone = lazyZone(() => deps.timeZone ?? systemTimeZone());
  const service = createAutomationService({
    clock: deps.clock,
    bus: deps.bus,
    devices: deps.devices,
    logger: deps.logger,
    store: createAutomationStore(deps.db),
    zone,
    ...(deps.maxRunsPerMinute ? { maxRunsPerMinute: deps.maxRunsPerMinute } : {}),
    ...(deps.commandWaitMs ? { commandWaitMs: deps.commandWaitMs } : {}),
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
  });
  const counter = (name: string, help: string, read: () => number) => ({
    name,
    help,
    type: "counter" as const,
    read,
  });
  const module = {
    name: "automations",
    routes: [
      lazyRoutes(["/automations"], async () =>
        (await import("./automation-routes.ts")).automationRoutes(service),
      ),
    ],
    metrics: [
      {
        name: "opengenie_automations_enabled",
        help: "Enabled automations",
        type: "gauge",
        read: service.enabledCount,
      },
      counter("opengenie_automation_runs_total", "Automation runs started", () => service.counters.runs),
      counter(
        "opengenie_automation_runs_failed_total",
        "Automation runs that failed",
        () => service.counters.failed,
      ),
      counter(
        "opengenie_automations_suspended_total",
        "Automations suspended by loop protection (too many runs within a minute)",
        () => service.counters.suspended,
      ),
      counter(
        "opengenie_automation_runs_dropped_total",
        "Runs dropped because a queued automation's queue was full",
        () => service.counters.dropped,
      ),
    ],
    async start() {
      // Not zone.name: that would load the time-zone data at every start (see lazyZone).
      deps.logger.debug("automations use the time zone", { timeZone: deps.timeZone ?? "the system's" });
      await service.start();
    },
    stop: () => service.stop(),
  } satisfies StationModule;
  // The service and zone too, for tests that look inside (station.modules).
  return Object.assign(module, { service, zone });
}
