import { randomUUID } from "node:crypto";
import { type Clock, StationError, type TimerHandle } from "../core/index.ts";
import type { CommandMessage } from "../protocol/index.ts";
import type { BatchedWriter } from "../storage/index.ts";
import type { DeviceRegistry, Transport } from "./device-registry.ts";
import { validateCommand } from "./device-types.ts";

/** How a transport delivers `{"action","requestId",…params}` to one device. */
export interface CommandSink {
  send(deviceId: string, message: CommandMessage): Promise<void> | void;
  /**
   * For devices whose commands are not in the type catalog (a driver announces its own): checks
   * an action and its params, throwing VALIDATION_ERROR, and returns the params to send.
   */
  validate?(deviceId: string, action: string, params: unknown): Record<string, unknown>;
}

export const MAX_WAIT_MS = 60_000;

interface Pending {
  deviceId: string;
  resolve(): void;
  reject(err: StationError): void;
  timer: TimerHandle;
}

export interface DispatcherDeps {
  registry: DeviceRegistry;
  writer: BatchedWriter;
  clock: Clock;
}

/** Sends commands through whichever transport the device uses and correlates results by requestId. */
export function createCommandDispatcher(deps: DispatcherDeps) {
  const { registry, writer, clock } = deps;
  const sinks = new Map<Transport, CommandSink>();
  const pending = new Map<string, Pending>();

  return {
    registerSink(transport: Transport, sink: CommandSink) {
      sinks.set(transport, sink);
      return () => sinks.delete(transport);
    },

    /**
     * Checks an action and its params for a device as `send` would, without sending (an
     * automation is checked when it is saved): NOT_FOUND or VALIDATION_ERROR.
     */
    async validate(deviceId: string, action: string, params: unknown) {
      const device = await registry.require(deviceId);
      const sink = sinks.get(device.transport);
      return sink?.validate
        ? sink.validate(deviceId, action, params)
        : validateCommand(device.type, action, params);
    },

    async send(deviceId: string, action: string, params: unknown, waitMs?: number) {
      const device = await registry.require(deviceId);
      const sink = sinks.get(device.transport);
      const clean = sink?.validate
        ? sink.validate(deviceId, action, params)
        : validateCommand(device.type, action, params);
      if (!device.online) {
        throw new StationError(
          "DEVICE_OFFLINE",
          `device ${device.name} (${deviceId}) is offline; it cannot take commands now`,
        );
      }
      if (!sink) throw new StationError("UNAVAILABLE", `no ${device.transport} transport is running`);
      const requestId = randomUUID();
      writer.appendEvent(deviceId, "command", { action, params: clean, requestId }, clock.now());
      const result =
        waitMs === undefined
          ? undefined
          : new Promise<void>((resolve, reject) => {
              const timer = clock.setTimeout(
                () => {
                  pending.delete(requestId);
                  reject(
                    new StationError(
                      "DEVICE_TIMEOUT",
                      `device ${deviceId} did not confirm ${action} within ${waitMs} ms`,
                      {
                        requestId,
                      },
                    ),
                  );
                },
                Math.min(waitMs, MAX_WAIT_MS),
              );
              pending.set(requestId, { deviceId, resolve, reject, timer });
            });
      try {
        await sink.send(deviceId, { ...clean, action, requestId });
      } catch (err) {
        const p = pending.get(requestId);
        if (p) clock.clearTimeout(p.timer);
        pending.delete(requestId);
        throw new StationError("UNAVAILABLE", `could not deliver the command: ${(err as Error).message}`);
      }
      if (!result) return { requestId, status: "sent" as const };
      await result;
      return { requestId, status: "ok" as const };
    },

    /** A device's `command/result`; results for another device's request are ignored. */
    onResult(deviceId: string, result: { requestId: string; ok: boolean; error?: string }) {
      writer.appendEvent(
        deviceId,
        "command",
        { requestId: result.requestId, ok: result.ok, error: result.error },
        clock.now(),
      );
      this.settle(deviceId, result);
    },

    /**
     * Completes a waiting command without storing anything: the result another instance of the
     * station processed (and stored) settles a `?wait` issued here (docs/scale-out.md).
     */
    settle(deviceId: string, result: { requestId: string; ok: boolean; error?: string }) {
      const p = pending.get(result.requestId);
      if (!p || p.deviceId !== deviceId) return;
      pending.delete(result.requestId);
      clock.clearTimeout(p.timer);
      if (result.ok) p.resolve();
      else
        p.reject(
          new StationError("DEVICE_ERROR", `device reported failure: ${result.error ?? "no reason given"}`, {
            requestId: result.requestId,
          }),
        );
    },

    stop() {
      for (const [id, p] of pending) {
        clock.clearTimeout(p.timer);
        p.reject(new StationError("UNAVAILABLE", "station is shutting down", { requestId: id }));
      }
      pending.clear();
    },
  };
}

export type CommandDispatcher = ReturnType<typeof createCommandDispatcher>;
