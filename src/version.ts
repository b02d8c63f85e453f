import pkg from "../package.json" with { type: "json" };

declare const OPENGENIE_BUILD_VERSION: string | undefined;

/** build.ts injects the release version; a checkout reports package.json's. */
export const VERSION: string =
  typeof OPENGENIE_BUILD_VERSION === "string" ? OPENGENIE_BUILD_VERSION : pkg.version;
