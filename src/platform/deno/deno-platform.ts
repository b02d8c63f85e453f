/**
 * The runtime port on Deno 2: the same `Platform` the Bun build gets (src/platform/bun/),
 * loaded only by the entry point when it runs under Deno.
 */
import { listenNodeTcp } from "../node-tcp.ts";
import type { Platform } from "../types.ts";
import { createArgon2Pool } from "./argon2-pool.ts";
import { denoEmbeddedFiles } from "./deno-embedded.ts";
import { denoServe } from "./deno-serve.ts";
import { denoSpawn } from "./deno-spawn.ts";
import { openDenoSqlite } from "./deno-sqlite.ts";
import { connectDenoWebSocket } from "./deno-websocket-client.ts";

export function createDenoPlatform(): Platform {
  const argon2 = createArgon2Pool();
  return {
    runtime: `deno ${Deno.version.deno}`,
    embedded: denoEmbeddedFiles,
    openSqlite: openDenoSqlite,
    serve: denoServe,
    listenTcp: listenNodeTcp,
    spawn: denoSpawn,
    hashPassword: argon2.hash,
    verifyPassword: argon2.verify,
    connectWebSocket: connectDenoWebSocket,
  };
}
