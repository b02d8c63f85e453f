import type { ModulesPolicy } from "../config/index.ts";
import { type Clock, createTokenBucket, type TokenBucket, zodErrorMessage } from "../core/index.ts";
import {
  announceDataSchema,
  MODULE_NOT_AUTHENTICATED,
  type ModuleEvent,
  type ModuleIdentity,
  type RegisteredModule,
  uiConfigureDataSchema,
} from "../protocol/index.ts";
import { OutgoingEvent } from "./module-codec.ts";
import type { ModuleHubOutbox } from "./module-hub-outbox.ts";
import type { HubMember, ModulePeer } from "./module-peer.ts";
import { peerMatchesPolicy, routeIdentityOf } from "./module-routing.ts";

export interface ModuleHubRegistryDeps {
  clock: Clock;
  policy?: ModulesPolicy;
  /** The station's own module, always first in the registry. */
  station: HubMember;
  stationIdentity: ModuleIdentity;
  /** The hub's open peers by id. */
  peers: ReadonlyMap<string, ModulePeer>;
  outbox: ModuleHubOutbox;
  /** True once the hub is shutting down: a pending sync is then not sent. */
  isClosing(): boolean;
}

/** The registry of announced modules: announce, de-announce, the registry sync and `ui:configure`. */
export function createModuleHubRegistry(deps: ModuleHubRegistryDeps) {
  const { clock, policy, station, peers, outbox } = deps;
  const { serverEvent, send, sendError } = outbox;
  const announces = new Map<string, { bucket: TokenBucket; order: number }>();
  let announceOrder = 0;
  let syncScheduled = false;

  function registry(): RegisteredModule[] {
    const modules: RegisteredModule[] = [{ name: station.name, identity: deps.stationIdentity }];
    for (const p of peers.values()) {
      if (!p.authenticated || !p.name || !p.identity) continue;
      modules.push({
        name: p.name,
        ...(p.index === undefined ? {} : { index: p.index }),
        identity: p.identity,
      });
    }
    return modules;
  }

  function sendSync(peer: ModulePeer, parentId?: string) {
    // Only the latest registry matters to a peer that is behind: it waits under one key.
    send(peer, serverEvent("registry:modules:sync", { modules: registry() }, parentId), "registry");
  }

  /** Every join and leave re-sends the registry; changes within one tick share one sync. */
  function scheduleSync() {
    if (syncScheduled) return;
    syncScheduled = true;
    queueMicrotask(() => {
      syncScheduled = false;
      if (deps.isClosing()) return;
      const event = serverEvent("registry:modules:sync", { modules: registry() });
      for (const p of peers.values()) if (p.authenticated) send(p, event, "registry");
    });
  }

  function toOthers(from: ModulePeer, event: OutgoingEvent) {
    for (const p of peers.values()) if (p !== from && p.authenticated) send(p, event);
  }

  function registration(p: ModulePeer): RegisteredModule {
    return { name: p.name, ...(p.index === undefined ? {} : { index: p.index }), identity: p.identity! };
  }

  function deAnnounce(p: ModulePeer, reason: string) {
    if (!p.name || !p.identity) return;
    toOthers(p, serverEvent("module:de-announced", { ...registration(p), reason }));
    p.name = "";
    p.index = undefined;
    p.identity = undefined;
    p.route = undefined;
    scheduleSync();
  }

  function announce(peer: ModulePeer, event: ModuleEvent, kind: "module" | "extension", parentId?: string) {
    // One shape for both: the extension announce carries no index, and one given is kept.
    const parsed = announceDataSchema.safeParse(event.data);
    if (!parsed.success)
      return sendError(peer, `invalid ${event.type}: ${zodErrorMessage(parsed.error, "data")}`);
    if (!peer.authenticated) return sendError(peer, "must authenticate before announcing");
    const { name, identity, index } = parsed.data;
    const route = routeIdentityOf(identity);
    if (name === station.name || route.plugin === station.route?.plugin) {
      return sendError(peer, `the module name and plugin "${station.name}" belong to the station`);
    }
    const state = announces.get(peer.id) ?? { bucket: createTokenBucket(5, 1, clock.now()), order: 0 };
    announces.set(peer.id, state);
    // Each announce re-sends the registry to every peer: a module may not make that a flood.
    if (state.bucket.take(clock.now()) > 0) return sendError(peer, "announcing too often; wait a second");
    deAnnounce(peer, "re-announcing");
    state.order = ++announceOrder;
    peer.name = name;
    peer.index = index;
    peer.identity = identity;
    peer.route = route;
    if (kind === "extension") send(peer, serverEvent("extension:module:announced", parsed.data, parentId));
    toOthers(peer, serverEvent("module:announced", registration(peer), parentId));
    scheduleSync();
  }

  /** The module `ui:configure` names: by index when given, else the unindexed or only one. */
  function findModule(name: string, index: number | undefined): ModulePeer | undefined {
    const named = [...peers.values()]
      .filter((p) => p.authenticated && p.name === name)
      .sort((a, b) => (announces.get(a.id)?.order ?? 0) - (announces.get(b.id)?.order ?? 0));
    if (index !== undefined) return named.findLast((p) => p.index === index);
    return named.findLast((p) => p.index === undefined) ?? (named.length === 1 ? named[0] : undefined);
  }

  function configure(peer: ModulePeer, event: ModuleEvent, parentId?: string) {
    if (!peer.authenticated) return sendError(peer, MODULE_NOT_AUTHENTICATED, parentId);
    const parsed = uiConfigureDataSchema.safeParse(event.data);
    if (!parsed.success)
      return sendError(peer, `invalid ui:configure: ${zodErrorMessage(parsed.error, "data")}`);
    const target = findModule(parsed.data.moduleName, parsed.data.moduleIndex);
    const allowed =
      !policy || (peerMatchesPolicy(peer, policy) && target && peerMatchesPolicy(target, policy));
    if (!target || !allowed) {
      return sendError(
        peer,
        "module not found, it hasn't announced itself or the name is incorrect",
        parentId,
      );
    }
    const configureEvent = {
      type: "module:configure",
      data: { config: parsed.data.config },
      metadata: event.metadata,
    };
    send(target, new OutgoingEvent("module:configure", configureEvent));
  }

  /** A closed peer leaves: its announce state goes and the others hear it de-announced. */
  function leave(peer: ModulePeer) {
    announces.delete(peer.id);
    deAnnounce(peer, "connection closed");
  }

  return { registry, sendSync, announce, configure, leave };
}
