import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./api-env.ts";

/**
 * A route group built on its first request (issue 17, docs/performance.md): the station answers
 * `/api/health` without evaluating the group's module, building its routes and schemas, or
 * compiling a router that holds them. `prefixes` are the paths under /api it serves, each with
 * everything below it (`/devices` serves `/devices` and `/devices/…`); a loaded group whose
 * routes fall outside them is refused, so a prefix cannot silently go missing.
 */
export interface LazyRoutes {
  readonly prefixes: readonly string[];
  load(): Promise<OpenAPIHono<ApiEnv>>;
}

/** What a station module contributes under /api: routes built now, or on first use. */
export type RouteGroup = OpenAPIHono<ApiEnv> | LazyRoutes;

export function lazyRoutes(
  prefixes: readonly string[],
  load: () => Promise<OpenAPIHono<ApiEnv>>,
): LazyRoutes {
  return { prefixes, load };
}

export function isLazyRoutes(group: RouteGroup): group is LazyRoutes {
  return "prefixes" in group && typeof (group as LazyRoutes).load === "function";
}

/** The group's routes (paths as registered, e.g. `/automations/:id`) that no prefix covers. */
export function uncoveredRoutes(prefixes: readonly string[], routes: readonly { path: string }[]): string[] {
  return routes
    .map((r) => r.path)
    .filter((path) => path !== "/*" && !prefixes.some((p) => path === p || path.startsWith(`${p}/`)));
}

type Loaded = { routes: OpenAPIHono<ApiEnv>; app?: OpenAPIHono<ApiEnv> };

/**
 * Mounts each group on `api`: a built one directly, a lazy one as a handler on its prefixes that
 * builds the group on first use, into an app of its own from `base` (the /api base path, the
 * token check and the error shapes), and hands every request under them to it. `loadAll` builds
 * what is not built yet: for the OpenAPI document and the test that walks every route.
 */
export function mountRouteGroups(
  api: OpenAPIHono<ApiEnv>,
  groups: readonly RouteGroup[],
  base: () => OpenAPIHono<ApiEnv>,
): { loadAll(): Promise<Loaded[]> } {
  const loaders = groups.map((group): (() => Promise<Loaded>) => {
    if (!isLazyRoutes(group)) {
      api.route("/", group);
      return async () => ({ routes: group });
    }
    const load = loadOnce(group, base);
    const serve = async (c: { req: { raw: Request }; env: ApiEnv["Bindings"] }) =>
      (await load()).app.fetch(c.req.raw, c.env);
    for (const prefix of group.prefixes) {
      api.all(prefix, serve);
      api.all(`${prefix}/*`, serve);
    }
    return load;
  });
  return { loadAll: () => Promise.all(loaders.map((load) => load())) };
}

/** A lazy group's app, built once; a load that failed is tried again on the next request. */
function loadOnce(group: LazyRoutes, base: () => OpenAPIHono<ApiEnv>) {
  let loading: Promise<Required<Loaded>> | undefined;
  return () => {
    loading ??= group.load().then(
      (routes) => {
        const stray = uncoveredRoutes(group.prefixes, routes.routes);
        if (stray.length > 0) {
          throw new Error(`route group ${group.prefixes.join(", ")} also serves ${stray.join(", ")}`);
        }
        const app = base();
        app.route("/", routes);
        return { app, routes };
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
}
