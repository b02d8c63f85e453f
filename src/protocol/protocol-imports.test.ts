import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The browser bundle (src/http/web) and the typed client take this module as it is, so it
// may reach nothing server-side: not hono (whose `.openapi()` the schemas do not need: their
// OpenAPI names are zod `.meta({ id })`), not another domain, not a runtime's built-ins.
test("the protocol module imports only zod and its own files", () => {
  const dir = import.meta.dir;
  const offending: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const source = readFileSync(join(dir, file), "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      if (specifier !== "zod" && !/^\.\/[\w-]+\.ts$/.test(specifier!))
        offending.push(`${file}: ${specifier}`);
    }
  }
  expect(offending).toEqual([]);
});
