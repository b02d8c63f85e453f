/**
 * Who is signed in, and the live `/ws` connection that goes with it. The typed client from
 * src/client reconnects by itself after a station restart (the page shows the offline banner
 * meanwhile) and fails for good on a revoked session (close 4003) or a refused token, which
 * returns the page to sign-in.
 */
import {
  type Channel,
  type ClientState,
  type ClientSubscription,
  createStationClient,
  type PushHandler,
  type StationClient,
  type SubscriptionFilter,
} from "../../client/index.ts";
import type { Role, User } from "./admin-types.ts";
import { api, onUnauthorized, token } from "./api.ts";

const USER_KEY = "opengenie.user";
let client: StationClient | undefined;
const stateListeners = new Set<(state: ClientState) => void>();
const sessionListeners = new Set<(message: string) => void>();

export function currentUser(): User | undefined {
  const raw = sessionStorage.getItem(USER_KEY);
  if (!raw || !token.get()) return undefined;
  try {
    return JSON.parse(raw) as User;
  } catch {
    return undefined;
  }
}

const STRENGTH: Record<Role, number> = { owner: 3, admin: 2, member: 1, guest: 0 };
export const hasRole = (role: Role) => {
  const user = currentUser();
  return !!user && STRENGTH[user.role] >= STRENGTH[role];
};

export async function signIn(username: string, password: string) {
  const body = await api<{ accessToken: string; user: User }>("/api/auth/login", {
    body: { username, password },
  });
  token.set(body.accessToken);
  sessionStorage.setItem(USER_KEY, JSON.stringify(body.user));
  startLive();
}

/** Ends the session here (and on the station when `revoke`); listeners show the sign-in form. */
export function signOut(message = "", revoke = false) {
  if (revoke && token.get()) void api("/api/auth/logout", { body: {} }).catch(() => {});
  token.clear();
  sessionStorage.removeItem(USER_KEY);
  const old = client;
  client = undefined;
  old?.close();
  for (const listener of sessionListeners) listener(message);
}
onUnauthorized((message) => signOut(message));

export const onSignedOut = (listener: (message: string) => void) => sessionListeners.add(listener);
export function onConnectionState(listener: (state: ClientState) => void): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/**
 * Subscribes to a `/ws` channel as soon as the live connection is open, and again on the next
 * client after a new sign-in (the client itself re-subscribes after reconnects). Returns the
 * unsubscribe for a page that goes away.
 */
export function liveSubscribe(
  channel: Channel,
  filter: SubscriptionFilter | undefined,
  onPush: PushHandler,
): () => void {
  let sub: ClientSubscription | undefined;
  let subClient: StationClient | undefined;
  let busy = false;
  let done = false;
  const tryNow = () => {
    const live = client;
    if (done || busy || !live || live.state !== "open" || (sub && subClient === live)) return;
    busy = true;
    live.subscribe(channel, filter, onPush).then(
      (s) => {
        busy = false;
        if (done || live !== client) return void s.unsubscribe().catch(() => {});
        sub = s;
        subClient = live;
      },
      () => {
        busy = false;
      },
    );
  };
  const off = onConnectionState((state) => {
    if (state === "open") tryNow();
  });
  tryNow();
  return () => {
    done = true;
    off();
    if (sub && subClient === client) void sub.unsubscribe().catch(() => {});
  };
}

export function startLive() {
  const bearer = token.get();
  if (!bearer || client) return;
  const live = createStationClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`,
    token: bearer,
    reconnect: { initialMs: 250, maxMs: 5000, jitter: 0.2 },
  });
  client = live;
  live.onStateChange((state, error) => {
    if (live !== client) return;
    for (const listener of stateListeners) listener(state);
    if (state === "failed") {
      const revoked = error?.code === "SESSION_REVOKED" || error?.code === "UNAUTHORIZED";
      signOut(revoked ? "Your session ended; sign in again." : (error?.message ?? "Connection failed."));
    }
  });
  for (const listener of stateListeners) listener("connecting");
  live.connect().catch((err: Error) => {
    // The first connection failed (the station may be restarting): retry shortly.
    if (live !== client) return;
    client = undefined;
    for (const listener of stateListeners) listener("reconnecting");
    setTimeout(startLive, 1000);
    console.warn("live connection failed", err.message);
  });
}
