import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import { StationError } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import type { ActionOutcome, AutomationAction } from "../protocol/index.ts";

/** How long a device_command waits for the device's result before the run records DEVICE_TIMEOUT. */
export const COMMAND_WAIT_MS = 10_000;

export interface ActionDeps {
  clock: Clock;
  bus: EventBus<StationEvents>;
  devices: Pick<DeviceService, "commands">;
  commandWaitMs?: number;
}

export interface RunContext {
  automationId: string;
  runId: string;
  signal: AbortSignal;
}

/** A delay that ends early when the run is cancelled (mode restart, suspension, stop). */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function runOne(deps: ActionDeps, action: AutomationAction, ctx: RunContext): Promise<void> {
  switch (action.type) {
    case "device_command":
      // Through the device core like any command: validated, correlated by requestId, logged
      // in the device's events, sent over whichever transport the device uses.
      await Promise.race([
        deps.devices.commands.send(
          action.deviceId,
          action.action,
          action.params ?? {},
          deps.commandWaitMs ?? COMMAND_WAIT_MS,
        ),
        // A cancelled run stops waiting for the result (the device still gets the command).
        new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener("abort", () => resolve(), { once: true });
        }),
      ]);
      return;
    case "delay":
      return pause(deps.clock, action.ms, ctx.signal);
    case "notify":
      deps.bus.emit("automation.notify", {
        automationId: ctx.automationId,
        runId: ctx.runId,
        message: action.message,
        at: deps.clock.now(),
      });
      return;
    case "module_event":
      deps.bus.emit("automation.event", {
        automationId: ctx.automationId,
        runId: ctx.runId,
        event: action.event,
        data: action.data ?? {},
        at: deps.clock.now(),
      });
      return;
  }
}

/**
 * Runs the actions in order and records each one's outcome; the first failure (device offline,
 * DEVICE_ERROR, timeout) ends the run, and nothing thrown here reaches the station.
 */
export async function runActions(
  deps: ActionDeps,
  actions: readonly AutomationAction[],
  ctx: RunContext,
): Promise<{ ok: boolean; error?: string; actions: ActionOutcome[] }> {
  const outcomes: ActionOutcome[] = [];
  for (const action of actions) {
    if (ctx.signal.aborted) return { ok: false, error: String(ctx.signal.reason), actions: outcomes };
    const startedAt = deps.clock.now();
    try {
      await runOne(deps, action, ctx);
      if (ctx.signal.aborted) {
        // Cut short (a delay ended early, a result no longer awaited): not a success.
        const error = String(ctx.signal.reason);
        outcomes.push({ type: action.type, ok: false, error, startedAt, finishedAt: deps.clock.now() });
        return { ok: false, error, actions: outcomes };
      }
      outcomes.push({ type: action.type, ok: true, startedAt, finishedAt: deps.clock.now() });
    } catch (err) {
      const e = err instanceof StationError ? err : undefined;
      const message = e ? e.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
      const outcome: ActionOutcome = {
        type: action.type,
        ok: false,
        error: message,
        code: e?.code ?? "INTERNAL_ERROR",
        startedAt,
        finishedAt: deps.clock.now(),
      };
      outcomes.push(outcome);
      return { ok: false, error: `${action.type} failed: ${message}`, actions: outcomes };
    }
  }
  if (ctx.signal.aborted) return { ok: false, error: String(ctx.signal.reason), actions: outcomes };
  return { ok: true, actions: outcomes };
}
