import pkg from "../package.json" with { type: "json" };

declare const OPENGENIE_BUILD_VERSION: string | undefined;
declare const OPENGENIE_BUILD_TIME: string | undefined;

/** build.ts injects the release version; a checkout reports package.json's. */
export const VERSION: string =
  typeof OPENGENIE_BUILD_VERSION === "string" ? OPENGENIE_BUILD_VERSION : pkg.version;

/** When build.ts compiled this binary (ISO 8601); undefined in a checkout. */
export const BUILD_TIME: string | undefined =
  typeof OPENGENIE_BUILD_TIME === "string" ? OPENGENIE_BUILD_TIME : undefined;
