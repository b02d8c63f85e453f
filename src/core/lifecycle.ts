import type { Logger } from "../logging/index.ts";
import type { Service } from "./service.ts";

/**
 * What the station started, in order, so stop() undoes it in reverse: services, then plain
 * cleanups (listeners, subscriptions). Boot services fail independently unless critical.
 */
export function createLifecycle(logger: Logger) {
  const started: Service[] = [];
  const cleanups: (() => unknown)[] = [];
  return {
    /** A service already running (started before the listener, e.g. storage-backed ones). */
    running(service: Service) {
      started.push(service);
    },
    cleanup(fn: () => unknown) {
      cleanups.push(fn);
    },
    /** Starts boot services after the listener; a critical one's failure is rethrown. */
    async boot(services: Service[]) {
      for (const service of services) {
        try {
          await service.start();
          started.push(service);
        } catch (err) {
          if (service.critical) throw err;
          logger.error(`boot service ${service.name} failed to start; the station runs without it`, { err });
        }
      }
    },
    async stopAll() {
      for (const service of started.splice(0).reverse()) {
        try {
          await service.stop();
        } catch (err) {
          logger.error(`service ${service.name} failed to stop cleanly`, { err });
        }
      }
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (err) {
          logger.error("cleanup failed during stop", { err });
        }
      }
    },
  };
}

/** Resolves when `work` does or after `ms`, whichever is first (a stop must not hang). */
export function withDeadline(work: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  return Promise.race([
    work,
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        onLate();
        resolve();
      }, ms);
      (t as { unref?: () => void }).unref?.();
    }),
  ]);
}
