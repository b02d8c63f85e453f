import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { bundleWebApp, WEB_BUNDLE } from "../build.ts";

test("the committed web app bundle matches src/http/web/app.ts (run `bun build.ts --web` after editing it)", async () => {
  expect(readFileSync(WEB_BUNDLE, "utf8")).toBe(await bundleWebApp());
});
