/**
 * The runtime port on Deno 2: the same `Platform` the Bun build gets (src/platform/bun/),
 * loaded only by the entry point when it runs under Deno.
 */
import type { Platform } from "../types.ts";
import { denoEmbeddedFiles } from "./deno-embedded.ts";
import { hashPasswordArgon2id, verifyPasswordArgon2 } from "./deno-password.ts";
import { denoServe } from "./deno-serve.ts";
import { denoSpawn } from "./deno-spawn.ts";
import { openDenoSqlite } from "./deno-sqlite.ts";

export function createDenoPlatform(): Platform {
  return {
    runtime: `deno ${Deno.version.deno}`,
    embedded: denoEmbeddedFiles,
    openSqlite: openDenoSqlite,
    serve: denoServe,
    spawn: denoSpawn,
    hashPassword: hashPasswordArgon2id,
    verifyPassword: verifyPasswordArgon2,
  };
}
