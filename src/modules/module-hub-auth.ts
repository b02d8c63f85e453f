import { createLoginRateLimiter, tokensEqual } from "../auth/index.ts";
import type { Clock } from "../core/index.ts";
import type { Logger } from "../logging/index.ts";
import { authenticateDataSchema, MODULE_INVALID_TOKEN, type ModuleEvent } from "../protocol/index.ts";
import type { ModuleHubCounters } from "./module-hub-limits.ts";
import type { ModuleHubOutbox } from "./module-hub-outbox.ts";
import type { ModulePeer } from "./module-peer.ts";

export interface ModuleHubAuthDeps {
  clock: Clock;
  logger: Logger;
  /** `AUTHENTICATION_TOKEN`; unset = every peer is accepted. */
  token?: string;
  /** The hub's open peers by id: a delayed answer goes only to a peer still here. */
  peers: ReadonlyMap<string, ModulePeer>;
  counters: ModuleHubCounters;
  outbox: ModuleHubOutbox;
  /** Sends the registry to a peer that was just accepted. */
  sendSync(peer: ModulePeer, parentId?: string): void;
}

/** `module:authenticate`: the token check, the wrong-token throttle and accepting a peer. */
export function createModuleHubAuth(deps: ModuleHubAuthDeps) {
  const { clock, logger, peers, counters, outbox } = deps;
  // Failed tokens per client address: 5 a minute, then the next check waits (like sign-ins).
  const authFailures = createLoginRateLimiter(clock, 5, 60_000);

  function accept(peer: ModulePeer, parentId?: string) {
    peer.authenticated = true;
    outbox.send(peer, outbox.serverEvent("module:authenticated", { authenticated: true }, parentId));
    deps.sendSync(peer, parentId);
  }

  function checkToken(peer: ModulePeer, token: string, parentId?: string) {
    const address = peer.socket.remoteAddress;
    const attempt = authFailures.attempt(address, address);
    if (tokensEqual(token, deps.token ?? "")) {
      attempt.succeeded();
      accept(peer, parentId);
      return;
    }
    counters.authFailures++;
    logger.warn("module authentication failed", { remoteAddress: address, connId: peer.id });
    // Once, as an error: the 0.8.4 client resends at once on {authenticated:false}, forever.
    outbox.sendError(peer, MODULE_INVALID_TOKEN, parentId);
  }

  function authenticate(peer: ModulePeer, event: ModuleEvent, parentId?: string) {
    if (!deps.token) return accept(peer, parentId);
    const parsed = authenticateDataSchema.safeParse(event.data);
    const token = parsed.success ? parsed.data.token : "";
    const address = peer.socket.remoteAddress;
    const wait = authFailures.retryAfter(address, address);
    if (wait <= 0) return checkToken(peer, token, parentId);
    // A guesser's address waits for its window; the answer comes then, so no client is told
    // "invalid token" for a right one and left stuck (the 0.8.4 client never retries it).
    clock.clearTimeout(peer.pendingAuth);
    peer.pendingAuth = clock.setTimeout(() => {
      peer.pendingAuth = undefined;
      if (peers.get(peer.id) === peer) checkToken(peer, token, parentId);
    }, wait);
  }

  return { accept, authenticate };
}
