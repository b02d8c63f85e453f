import type { ModulesPolicy } from "../config/index.ts";
import {
  type ModuleIdentity,
  type RouteDestination,
  type RouteTargetExpression,
  routeDestinationsSchema,
} from "../protocol/index.ts";

/**
 * Who receives a module's event (CONTRACT.md section 4), ported from AIRI server-runtime's
 * `middlewares/route.ts` and `route/match-expression.ts` (v0.8.4, with the later fixes noted
 * below). Pure: the hub hands it the peers, it returns the recipients.
 */

/** What routing knows of a peer: its announced name and identity, flattened. */
export interface RoutingPeer {
  /** The connection id (the `peer:` destination form). */
  readonly id: string;
  /** The announced module name; "" before the module announces. */
  readonly name: string;
  readonly authenticated: boolean;
  readonly route?: RouteIdentity;
}

/** An identity in either announced shape, as routing compares it. */
export interface RouteIdentity {
  plugin: string;
  instanceId: string;
  labels: Record<string, string>;
}

/** Flattens the three identity shapes: the 0.8.4 one, the `kind:"plugin"` one and the extension one. */
export function routeIdentityOf(identity: ModuleIdentity): RouteIdentity {
  if ("kind" in identity) {
    return {
      plugin: identity.plugin.id,
      instanceId: identity.id,
      labels: { ...identity.plugin.labels, ...identity.labels },
    };
  }
  if ("extension" in identity) {
    return {
      plugin: identity.extension.id,
      instanceId: identity.id,
      labels: { ...identity.extension.labels, ...identity.labels },
    };
  }
  return { plugin: identity.plugin, instanceId: identity.instanceId, labels: { ...identity.labels } };
}

/**
 * `*` matches any run of characters, everything else itself. Written out rather than turned
 * into a RegExp as AIRI does: no pattern can backtrack exponentially, and `?` or `(` in a
 * module's pattern mean nothing special.
 */
export function matchesGlob(glob: string, value: string | undefined): boolean {
  if (!value) return false;
  const parts = glob.split("*");
  if (parts.length === 1) return glob === value;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/** `key=value`, or `key` alone for "has this label" (spaces around either are ignored). */
export function matchesLabelSelector(selector: string, labels: Record<string, string>): boolean {
  const eq = selector.indexOf("=");
  const key = (eq < 0 ? selector : selector.slice(0, eq)).trim();
  if (!key) return false;
  if (eq < 0) return Object.hasOwn(labels, key);
  return Object.hasOwn(labels, key) && labels[key] === selector.slice(eq + 1).trim();
}

export function matchesLabelSelectors(selectors: readonly string[], labels: Record<string, string>): boolean {
  return selectors.every((selector) => matchesLabelSelector(selector, labels));
}

export function matchesRouteExpression(expression: RouteTargetExpression, peer: RoutingPeer): boolean {
  const identity = peer.route;
  const flip = (matched: boolean, inverted?: boolean) => (inverted ? !matched : matched);
  switch (expression.type) {
    case "and":
      return expression.all.every((e) => matchesRouteExpression(e, peer));
    case "or":
      return expression.any.some((e) => matchesRouteExpression(e, peer));
    case "glob":
      return flip(
        matchesGlob(expression.glob, peer.name) ||
          matchesGlob(expression.glob, identity?.plugin) ||
          matchesGlob(expression.glob, identity?.instanceId),
        expression.inverted,
      );
    case "ids":
      return flip(expression.ids.includes(peer.id), expression.inverted);
    case "plugin":
      return flip(expression.plugins.includes(identity?.plugin ?? ""), expression.inverted);
    case "instance":
      return flip(expression.instances.includes(identity?.instanceId ?? ""), expression.inverted);
    case "label":
      return flip(matchesLabelSelectors(expression.selectors, identity?.labels ?? {}), expression.inverted);
    case "module":
      return flip(expression.modules.includes(peer.name), expression.inverted);
    case "source":
      return flip(expression.sources.includes(peer.name), expression.inverted);
    default:
      return false;
  }
}

/** One destination against one peer; an unusable destination (`null`) matches nobody. */
export function matchesDestination(destination: RouteDestination | null, peer: RoutingPeer): boolean {
  if (destination === null) return false;
  if (typeof destination !== "string") return matchesRouteExpression(destination, peer);
  if (destination === "*") return true;
  const identity = peer.route;
  // The value is everything after the first colon (AIRI's split(":", 2) cut `instance:host:1` short).
  const colon = destination.indexOf(":");
  const prefix = colon < 0 ? destination : destination.slice(0, colon);
  const value = colon < 0 ? "" : destination.slice(colon + 1);
  switch (colon < 0 ? "" : prefix) {
    case "plugin":
      return identity?.plugin === value;
    case "instance":
      return identity?.instanceId === value;
    case "label":
      return matchesLabelSelectors([value], identity?.labels ?? {});
    case "peer":
      return peer.id === value;
    case "module":
    case "source":
      return peer.name === value;
    default:
      return (
        matchesGlob(destination, peer.name) ||
        matchesGlob(destination, identity?.plugin) ||
        matchesGlob(destination, identity?.instanceId)
      );
  }
}

export function matchesDestinations(destinations: readonly (RouteDestination | null)[], peer: RoutingPeer) {
  return destinations.some((destination) => matchesDestination(destination, peer));
}

/**
 * `route.destinations`, else `data.destinations` when `data` carries an array of them. An
 * explicit empty list means nobody (AIRI after 0.8.4; 0.8.4 broadcast it), and so does a list
 * too long to check, rather than everybody.
 */
export function collectDestinations(event: {
  route?: { destinations?: readonly (RouteDestination | null)[] };
  data?: unknown;
}): readonly (RouteDestination | null)[] | undefined {
  if (event.route?.destinations) return event.route.destinations;
  const { data } = event;
  if (typeof data !== "object" || data === null || !("destinations" in data)) return undefined;
  if (!Array.isArray(data.destinations)) return undefined;
  const parsed = routeDestinationsSchema.safeParse(data.destinations);
  return parsed.success ? parsed.data : [];
}

/** A devtools peer (label `devtools=true`, or `1` as AIRI also accepts) may bypass routing. */
export function isDevtoolsPeer(peer: RoutingPeer): boolean {
  const label = peer.route?.labels.devtools;
  return label === "true" || label === "1";
}

/** Whether the policy lets this peer take part in routing; unauthenticated peers never do. */
export function peerMatchesPolicy(peer: RoutingPeer, policy: ModulesPolicy): boolean {
  if (!peer.authenticated) return false;
  const plugin = peer.route?.plugin ?? "";
  if (policy.allowPlugins?.length && !policy.allowPlugins.includes(plugin)) return false;
  if (policy.denyPlugins?.length && policy.denyPlugins.includes(plugin)) return false;
  const labels = peer.route?.labels ?? {};
  if (policy.allowLabels?.length && !matchesLabelSelectors(policy.allowLabels, labels)) return false;
  if (policy.denyLabels?.length && matchesLabelSelectors(policy.denyLabels, labels)) return false;
  return true;
}

export interface RouteRequest<P extends RoutingPeer> {
  from: P;
  peers: Iterable<P>;
  destinations: readonly (RouteDestination | null)[] | undefined;
  /** `route.bypass` as the event asked; honoured only for a devtools sender. */
  bypass: boolean;
  policy: ModulesPolicy | undefined;
}

/**
 * The peers an event reaches: every other authenticated peer that matches the destinations
 * (all of them when there are none) and the policy. The policy applies on top of the
 * destinations (AIRI 0.8.4 let a policy replace them) and to the sender too, so a denied
 * plugin's events reach no one. A devtools sender's `route.bypass` skips destinations and
 * the policy for its recipients, but not the check of the sender itself.
 */
export function routeRecipients<P extends RoutingPeer>(request: RouteRequest<P>): P[] {
  const { from, policy, destinations } = request;
  if (!from.authenticated) return [];
  if (policy && !peerMatchesPolicy(from, policy)) return [];
  const bypass = request.bypass && isDevtoolsPeer(from);
  const recipients: P[] = [];
  for (const peer of request.peers) {
    if (peer.id === from.id || !peer.authenticated) continue;
    if (!bypass) {
      if (destinations !== undefined && !matchesDestinations(destinations, peer)) continue;
      if (policy && !peerMatchesPolicy(peer, policy)) continue;
    }
    recipients.push(peer);
  }
  return recipients;
}
