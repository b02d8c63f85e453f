/** How the station's core (database, auth) is configured from its config: station.ts builds the rest. */
import { createAuthService, createPasswordCheckGate } from "./auth/index.ts";
import type { StationConfig } from "./config/index.ts";
import {
  type Clock,
  createIdleCollector,
  type EventBus,
  type StationEvents,
  type TimerHandle,
} from "./core/index.ts";
import type { Logger } from "./logging/index.ts";
import type { Platform } from "./platform/index.ts";
import type { StationDatabase } from "./storage/index.ts";

/** SQLite in the data dir, or PostgreSQL with `--database-url` (docs/postgres.md). */
export function databaseOptions(config: StationConfig, logger: Logger) {
  return {
    databaseUrl: config.databaseUrl,
    poolMax: config.databasePoolMax,
    onPoolError: (err: unknown) => logger.warn("a pooled database connection failed; reconnecting", { err }),
  };
}

/** Accounts and tokens, with at most 2 password checks at once and 8 waiting (docs/security.md). */
export function createCoreAuth(
  deps: { database: StationDatabase; platform: Platform; clock: Clock; bus: EventBus<StationEvents> },
  config: StationConfig,
) {
  return createAuthService({
    db: deps.database.db,
    platform: deps.platform,
    clock: deps.clock,
    jwtSecret: config.jwtSecret,
    bus: deps.bus,
    passwordChecks: createPasswordCheckGate({ concurrency: 2, maxQueued: 8, retryAfterMs: 1000 }),
  });
}

/**
 * What one HTTP request counts for towards a memory release, besides its body: Bun's server kept
 * about 18 KB per request after 1,000 small ones until collected, so 16 MiB is about 250 requests.
 */
const REQUEST_WEIGHT = 64 * 1024;

/**
 * The normal JIT policy is back this long after start even under traffic (the first quiet window
 * is as long): traffic that has gone on this long is not run-once work, and commands right after
 * a start ran slower under the start-up policy (bench/command-rtt.ts: p50 0.97 against 0.76 ms
 * with 10 s).
 */
const START_JIT_WINDOW_MS = 2_000;

/**
 * Memory a burst used goes back once the station is quiet: device messages count their bytes,
 * API requests their weight, and start asks for one release (idle-collector.ts,
 * docs/performance.md).
 */
export function createMemoryRelief(clock: Clock, platform: Platform) {
  const collector = createIdleCollector({ clock, collect: platform.releaseMemory });
  let startWindow: TimerHandle | undefined;
  return {
    noteTraffic: collector.note,
    noteRequest: (bodyBytes: number) => collector.note(REQUEST_WEIGHT + bodyBytes),
    /**
     * Start is over. The start-up JIT policy (build.ts) stays for START_JIT_WINDOW_MS more, or
     * until the first quiet window: the first requests after start do run-once work too (a lazy
     * route group's router, first schemas), and compiling it paged in 2.4 MB of the JIT's own
     * code (docs/performance.md, "The first request and the JIT"). Then one release, once quiet.
     */
    afterStart() {
      let done = false;
      const startupDone = () => {
        if (done) return;
        done = true;
        clock.clearTimeout(startWindow);
        platform.startupDone?.();
      };
      startWindow = clock.setTimeout(startupDone, START_JIT_WINDOW_MS);
      collector.afterQuiet(startupDone);
    },
    stop() {
      clock.clearTimeout(startWindow);
      collector.stop();
    },
  };
}
