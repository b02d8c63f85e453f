/**
 * The routing rules as a table, ported from AIRI server-runtime's own route tests
 * (`packages/server-runtime/src/middlewares/route.test.ts` at v0.8.4, plus the cases later tags
 * added for fixes this hub adopts): their cases, our code. Then the rules CONTRACT.md section 4
 * adds on top (policy over destinations, the sender checked too, devtools bypass, both
 * identity shapes).
 */
import { describe, expect, test } from "bun:test";
import type { ModulesPolicy } from "../config/index.ts";
import {
  MAX_EXPRESSION_DEPTH,
  type ModuleIdentity,
  type RouteDestination,
  type RouteTargetExpression,
  routeDestinationSchema,
} from "../protocol/index.ts";
import {
  collectDestinations,
  isDevtoolsPeer,
  matchesDestinations,
  matchesGlob,
  matchesLabelSelector,
  matchesLabelSelectors,
  matchesRouteExpression,
  peerMatchesPolicy,
  type RoutingPeer,
  routeIdentityOf,
  routeRecipients,
} from "./module-routing.ts";

/** AIRI's `createPeer`: a 0.8.4 identity when plugin and instanceId are given. */
function createPeer(options: {
  id: string;
  name: string;
  plugin?: string;
  instanceId?: string;
  labels?: Record<string, string>;
  authenticated?: boolean;
}): RoutingPeer {
  const identity: ModuleIdentity | undefined =
    options.plugin && options.instanceId
      ? { plugin: options.plugin, instanceId: options.instanceId, labels: options.labels }
      : undefined;
  return {
    id: options.id,
    name: options.name,
    authenticated: options.authenticated ?? true,
    route: identity ? routeIdentityOf(identity) : undefined,
  };
}

const stageUi = createPeer({
  id: "peer-1",
  name: "stage-ui",
  plugin: "stage-ui",
  instanceId: "stage-ui-1",
  labels: { env: "prod" },
});
const telegram = createPeer({
  id: "peer-2",
  name: "telegram-bot",
  plugin: "telegram-bot",
  instanceId: "telegram-1",
  labels: { app: "telegram", env: "prod" },
});

describe("match-expression (AIRI's cases)", () => {
  test.each([
    ["env=prod", { env: "prod" }, true],
    ["env=prod", { env: "dev" }, false],
    ["feature", { feature: "on" }, true],
    ["missing", { env: "prod" }, false],
    // later AIRI: spaces around key and value are ignored
    [" env = prod ", { env: "prod" }, true],
    // ours: a label named like an Object.prototype member is not "present"
    ["constructor", {}, false],
  ] as const)("label selector %p on %p → %p", (selector, labels, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  test.each([
    [["env=prod", "tier=backend"], { env: "prod", tier: "backend" }, true],
    [["env=prod", "tier=backend"], { env: "prod", tier: "frontend" }, false],
  ])("label selector list %p on %p → %p", (selectors, labels, expected) => {
    expect(matchesLabelSelectors(selectors, labels)).toBe(expected);
  });

  test.each<[RouteTargetExpression, boolean]>([
    [{ type: "label", selectors: ["env=prod"] }, true],
    [{ type: "glob", glob: "stage-*" }, true],
    // ours: every expression form, and inversion
    [{ type: "glob", glob: "stage-*", inverted: true }, false],
    [{ type: "plugin", plugins: ["stage-ui"] }, true],
    [{ type: "instance", instances: ["stage-ui-1"] }, true],
    [{ type: "module", modules: ["telegram-bot"] }, false],
    [{ type: "ids", ids: ["peer-1"] }, true],
    [
      {
        type: "and",
        all: [
          { type: "plugin", plugins: ["stage-ui"] },
          { type: "label", selectors: ["env=dev"] },
        ],
      },
      false,
    ],
    [
      {
        type: "or",
        any: [
          { type: "plugin", plugins: ["x"] },
          { type: "label", selectors: ["env=prod"] },
        ],
      },
      true,
    ],
  ])("expression %j on stage-ui → %p", (expression, expected) => {
    expect(matchesRouteExpression(expression, stageUi)).toBe(expected);
  });
});

describe("route middleware (AIRI's cases)", () => {
  test.each<
    [string, Parameters<typeof collectDestinations>[0], readonly (RouteDestination | null)[] | undefined]
  >([
    [
      "route before data",
      { route: { destinations: ["label:env=prod"] }, data: { destinations: ["module:character"] } },
      ["label:env=prod"],
    ],
    ["data when the route has none", { data: { destinations: ["module:character"] } }, ["module:character"]],
    // later AIRI: an explicit empty list is the override, not a broadcast
    [
      "an explicit empty route list",
      { route: { destinations: [] }, data: { destinations: ["module:character"] } },
      [],
    ],
    ["an explicit empty data list", { data: { destinations: [] } }, []],
    ["primitive data", { data: "not-an-object" }, undefined],
    [
      "data.destinations that is not a list (context:update's {all:true})",
      { data: { destinations: { all: true } } },
      undefined,
    ],
    // ours: a list too long to check reaches nobody, not everybody
    ["65 data destinations", { data: { destinations: Array.from({ length: 65 }, (_, i) => `m${i}`) } }, []],
  ])("collects destinations: %s", (_, event, expected) => {
    expect(collectDestinations(event)).toEqual(expected);
  });

  test.each<[RouteDestination[], boolean]>([
    [["label:app=telegram"], true],
    [["label:env=dev"], false],
    // ours: the string forms of CONTRACT.md section 4
    [["*"], true],
    [["telegram-*"], true],
    [["*-1"], true],
    [["plugin:telegram-bot"], true],
    [["instance:telegram-1"], true],
    [["module:telegram-bot"], true],
    [["module:telegram"], false],
    [["peer:peer-2"], true],
    [["stage-ui", "label:app=telegram"], true],
    [[], false],
  ])("destinations %j match telegram-bot → %p", (destinations, expected) => {
    expect(matchesDestinations(destinations, telegram)).toBe(expected);
  });

  test("the value is everything after the first colon (AIRI cut `instance:host:1` to `host`)", () => {
    const peer = createPeer({ id: "x", name: "cam", plugin: "cam", instanceId: "host:1" });
    expect(matchesDestinations(["instance:host:1"], peer)).toBe(true);
    expect(matchesDestinations(["instance:host"], peer)).toBe(false);
  });

  test("policy filters targets (allowLabels env=prod)", () => {
    const peers = [
      createPeer({
        id: "peer-1",
        name: "telegram",
        plugin: "telegram-bot",
        instanceId: "telegram-1",
        labels: { env: "prod" },
      }),
      createPeer({
        id: "peer-2",
        name: "stage-ui",
        plugin: "stage-ui",
        instanceId: "stage-ui-1",
        labels: { env: "dev" },
      }),
    ];
    const policy = { allowLabels: ["env=prod"] };
    expect(peers.filter((p) => peerMatchesPolicy(p, policy)).map((p) => p.id)).toEqual(["peer-1"]);
  });

  test("policy excludes unauthenticated peers (later AIRI)", () => {
    const peers = [
      createPeer({
        id: "peer-1",
        name: "telegram",
        plugin: "telegram-bot",
        instanceId: "telegram-1",
        labels: { env: "prod" },
      }),
      createPeer({
        id: "peer-2",
        name: "stage-ui",
        plugin: "stage-ui",
        instanceId: "stage-ui-1",
        labels: { env: "prod" },
        authenticated: false,
      }),
    ];
    expect(peers.filter((p) => peerMatchesPolicy(p, { allowLabels: ["env=prod"] })).map((p) => p.id)).toEqual(
      ["peer-1"],
    );
  });

  test("policy does not authorize bypass by itself (later AIRI)", () => {
    const sender = createPeer({
      id: "s",
      name: "telegram",
      plugin: "telegram-bot",
      instanceId: "t-1",
      labels: { env: "prod" },
    });
    const dev = createPeer({
      id: "d",
      name: "stage-ui",
      plugin: "stage-ui",
      instanceId: "s-1",
      labels: { env: "dev" },
    });
    const prod = createPeer({
      id: "p",
      name: "other",
      plugin: "other",
      instanceId: "o-1",
      labels: { env: "prod" },
    });
    const recipients = routeRecipients({
      from: sender,
      peers: [sender, dev, prod],
      destinations: undefined,
      bypass: true,
      policy: { allowLabels: ["env=prod"] },
    });
    expect(recipients.map((p) => p.id)).toEqual(["p"]);
  });

  test.each([
    [{ devtools: "true" }, true],
    [{ devtools: "1" }, true],
    [{ devtools: "false" }, false],
    [{}, false],
  ])("devtools peer detection uses the label %p → %p", (labels, expected) => {
    const peer = createPeer({
      id: "peer-3",
      name: "debug-ui",
      plugin: "debug-ui",
      instanceId: "debug-ui-1",
      labels,
    });
    expect(isDevtoolsPeer(peer)).toBe(expected);
  });

  test("a devtools module name without the label is no devtools peer (ours: AIRI also trusted the name)", () => {
    expect(
      isDevtoolsPeer(createPeer({ id: "x", name: "my-devtools", plugin: "my-devtools", instanceId: "x" })),
    ).toBe(false);
  });
});

describe("who an event reaches (CONTRACT.md section 4)", () => {
  const sender = createPeer({ id: "from", name: "assistant", plugin: "llm", instanceId: "llm-1" });
  const devtools = createPeer({
    id: "dev",
    name: "inspector",
    plugin: "inspector",
    instanceId: "i-1",
    labels: { devtools: "true" },
  });
  const lights = createPeer({
    id: "lights",
    name: "lights",
    plugin: "automation",
    instanceId: "a-1",
    labels: { room: "kitchen" },
  });
  const ui = createPeer({
    id: "ui",
    name: "stage-ui",
    plugin: "stage-ui",
    instanceId: "s-1",
    labels: { room: "hall" },
  });
  const stranger = createPeer({ id: "anon", name: "", authenticated: false });
  const everyone = [sender, devtools, lights, ui, stranger];

  test.each<
    [
      string,
      RoutingPeer,
      readonly RouteDestination[] | undefined,
      boolean,
      ModulesPolicy | undefined,
      string[],
    ]
  >([
    [
      "no destinations: every other authenticated peer",
      sender,
      undefined,
      false,
      undefined,
      ["dev", "lights", "ui"],
    ],
    ["one destination by name", sender, ["lights"], false, undefined, ["lights"]],
    ["a label", sender, ["label:room=hall"], false, undefined, ["ui"]],
    ["never back to the sender", sender, ["*"], false, undefined, ["dev", "lights", "ui"]],
    [
      "the policy on top of the destinations",
      sender,
      ["lights", "ui"],
      false,
      { denyPlugins: ["stage-ui"] },
      ["lights"],
    ],
    ["a denied plugin's events reach no one", sender, undefined, false, { denyPlugins: ["llm"] }, []],
    [
      "allowLabels leave out peers without the label",
      lights,
      undefined,
      false,
      { allowLabels: ["room"] },
      ["ui"],
    ],
    [
      "allowLabels leave out a sender without the label too",
      sender,
      undefined,
      false,
      { allowLabels: ["room"] },
      [],
    ],
    [
      "bypass from a non-devtools peer changes nothing",
      sender,
      ["lights"],
      true,
      { denyPlugins: ["automation"] },
      [],
    ],
    [
      "devtools bypass skips destinations and policy",
      devtools,
      ["nobody"],
      true,
      { denyPlugins: ["automation"] },
      ["from", "lights", "ui"],
    ],
    ["devtools without bypass is routed like anyone", devtools, ["nobody"], false, undefined, []],
    ["an unauthenticated sender reaches no one", stranger, undefined, false, undefined, []],
  ])("%s", (_, from, destinations, bypass, policy, expected) => {
    const recipients = routeRecipients({ from, peers: everyone, destinations, bypass, policy });
    expect(recipients.map((p) => p.id)).toEqual(expected);
  });

  test("an unusable destination (null, as the parser leaves it) matches nobody", () => {
    expect(
      routeRecipients({
        from: sender,
        peers: everyone,
        destinations: [null],
        bypass: false,
        policy: undefined,
      }),
    ).toEqual([]);
  });

  test.each<[string, ModuleIdentity, { plugin: string; instanceId: string; labels: Record<string, string> }]>(
    [
      [
        "0.8.4",
        { plugin: "p", instanceId: "i", labels: { a: "1" } },
        { plugin: "p", instanceId: "i", labels: { a: "1" } },
      ],
      [
        'kind:"plugin", labels of plugin and module merged',
        { kind: "plugin", id: "i", plugin: { id: "p", labels: { a: "1", b: "1" } }, labels: { b: "2" } },
        { plugin: "p", instanceId: "i", labels: { a: "1", b: "2" } },
      ],
      [
        "extension module",
        { id: "i", extension: { id: "p", labels: { a: "1" } } },
        { plugin: "p", instanceId: "i", labels: { a: "1" } },
      ],
    ],
  )("identity shape %s routes by the same plugin, instance and labels", (_, identity, expected) => {
    expect(routeIdentityOf(identity)).toEqual(expected);
  });
});

describe("expressions as they arrive", () => {
  const nested = (depth: number) => {
    let expression: unknown = { type: "plugin", plugins: ["stage-ui"] };
    for (let i = 0; i < depth; i++) expression = { type: "and", all: [expression] };
    return expression;
  };

  test(`and/or nest up to ${MAX_EXPRESSION_DEPTH} deep; deeper ones match nobody, however deep they go`, () => {
    const ok = routeDestinationSchema.parse(nested(MAX_EXPRESSION_DEPTH));
    expect(matchesDestinations([ok], stageUi)).toBe(true);
    for (const depth of [MAX_EXPRESSION_DEPTH + 1, 2000])
      expect(routeDestinationSchema.parse(nested(depth))).toBeNull();
  });

  test.each([[42], [{ type: "nope" }], [{ type: "glob" }], ["x".repeat(257)]])(
    "%p is unusable: null",
    (value) => {
      expect(routeDestinationSchema.parse(value)).toBeNull();
    },
  );
});

describe("globs", () => {
  test.each([
    ["stage-*", "stage-ui", true],
    ["*", "", false],
    ["*ui", "stage-ui", true],
    ["s*g*i", "stage-ui", true],
    ["s*x*i", "stage-ui", false],
    ["a*a", "a", false],
    ["stage.ui", "stage-ui", false],
    ["stages?-ui", "stage-ui", false],
    ["stage-(ui)", "stage-ui", false],
  ])("%p on %p → %p", (glob, value, expected) => {
    expect(matchesGlob(glob, value)).toBe(expected);
  });
});
