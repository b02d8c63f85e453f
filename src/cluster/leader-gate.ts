/**
 * A module that must run once per station (the cloud link: one connection per station) runs
 * on the leader only when several instances form the station (docs/scale-out.md): started when
 * this instance takes the lease, stopped when it loses it. Its routes and metrics stay.
 */
import type { Clock, TimerHandle } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import type { StationContext, StationModule } from "../station-module.ts";

export function runWhileLeader(
  inner: StationModule,
  deps: { leader: () => boolean; clock: Clock; logger: Logger; checkMs?: number },
): StationModule {
  let timer: TimerHandle | undefined;
  let running = false;
  let chain: Promise<void> = Promise.resolve();
  let context: StationContext | undefined;

  async function check() {
    const want = deps.leader();
    if (want === running || !context) return;
    running = want;
    deps.logger.info(
      want ? "leader: starting a once-per-station module" : "no longer leader: stopping a module",
      {
        module: inner.name,
      },
    );
    if (want) await inner.start?.(context);
    else await inner.stop?.();
  }

  const tick = () => {
    chain = chain
      .then(check)
      .catch((err) => deps.logger.error("leader-gated module failed", { module: inner.name, err }));
    return chain;
  };

  return {
    ...inner,
    critical: false,
    async start(ctx) {
      context = ctx;
      timer = deps.clock.setInterval(() => void tick(), deps.checkMs ?? 1000);
      await tick();
    },
    async stop() {
      deps.clock.clearInterval(timer);
      timer = undefined;
      context = undefined;
      await chain;
      if (running) {
        running = false;
        await inner.stop?.();
      }
    },
  };
}
