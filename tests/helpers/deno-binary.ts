/**
 * The Deno executable from node_modules (the `deno` devDependency). Its postinstall links
 * node_modules/.bin/deno to the binary; where install scripts did not run, .bin/deno is a
 * Node shim that runs the binary as a child, which would put another pid between a test and
 * the station. So the binary itself is used: the one the postinstall placed, else the one
 * in the platform package.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

export function denoExecutable(): string {
  const candidates = [
    join(root, "node_modules", "deno", "deno"),
    join(root, "node_modules", "@deno", `${process.platform}-${process.arch}-glibc`, "deno"),
  ];
  return candidates.find((path) => existsSync(path)) ?? join(root, "node_modules", ".bin", "deno");
}
