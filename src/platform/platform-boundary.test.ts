/**
 * The station runs on Bun and on Deno only while the runtimes stay behind src/platform/: no
 * Bun or Deno global and no `bun:` module elsewhere in src/, and nothing outside the entry
 * point loads an implementation (modules reach the port through `import type` only).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DENO_PERMISSIONS } from "./deno/permissions.ts";

const srcDir = join(import.meta.dir, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts")
      ? [path]
      : [];
  });
}

/** The file's code without comments, so prose may name the runtimes. */
function code(path: string): string {
  return readFileSync(path, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const files = sourceFiles(srcDir).map((path) => ({ path, rel: relative(srcDir, path), code: code(path) }));

describe("the runtime stays behind src/platform/", () => {
  test("Bun's globals and modules only in src/platform/bun/", () => {
    const offenders = files
      .filter((f) => !f.rel.startsWith("platform/bun/"))
      .filter((f) => /\bBun\.\w|from\s+["']bun(:[\w-]+)?["']/.test(f.code))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  test("Deno's globals only in src/platform/deno/", () => {
    const offenders = files
      .filter((f) => !f.rel.startsWith("platform/deno/"))
      .filter((f) => /\bDeno\.\w/.test(f.code))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  test("no module loads a platform implementation; the port is imported as types only", () => {
    const valueImport =
      /import\s+(?!type\b)[^;]*?from\s+["'][./]*(?:\.\.\/)*platform\/(?:index|bun\/[\w-]+|deno\/[\w-]+)\.ts["']/;
    const offenders = files
      .filter((f) => !f.rel.startsWith("platform/"))
      .filter((f) => valueImport.test(f.code))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  test("the entry point loads exactly one implementation, by runtime, with dynamic imports", () => {
    const entry = code(join(srcDir, "..", "bin", "opengenie.ts"));
    expect(entry).toContain('await import("../src/platform/deno/deno-platform.ts")');
    expect(entry).toContain('await import("../src/platform/bun/bun-platform.ts")');
    expect(entry).not.toMatch(/^import\s+(?!type\b).*platform\/(bun|deno)\//m);
  });

  test("npm run start:deno grants exactly the permission set the tests run the station with", () => {
    const pkg = JSON.parse(readFileSync(join(srcDir, "..", "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["start:deno"]).toBe(`deno run ${DENO_PERMISSIONS.join(" ")} bin/opengenie.ts serve`);
  });
});
