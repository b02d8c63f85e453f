/**
 * argon2id on Deno, where node:crypto has no argon2: hash-wasm (WebAssembly), with the
 * parameters and PHC string format of Bun.password's default argon2id, so a hash made on
 * either runtime verifies on the other (tests/deno-password.test.ts checks both ways).
 */
import { argon2id, argon2Verify } from "hash-wasm";

/** Bun.password's argon2id defaults: 64 MiB, 2 passes, 1 lane, a 32-byte salt and tag. */
const MEMORY_KIB = 65536;
const ITERATIONS = 2;
const PARALLELISM = 1;
const SALT_BYTES = 32;
const HASH_BYTES = 32;

export function hashPasswordArgon2id(password: string): Promise<string> {
  return argon2id({
    password,
    salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
    memorySize: MEMORY_KIB,
    iterations: ITERATIONS,
    parallelism: PARALLELISM,
    hashLength: HASH_BYTES,
    outputType: "encoded",
  });
}

/** False for a wrong password and for anything that is no argon2 PHC string, as Bun's verify. */
export function verifyPasswordArgon2(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith("$argon2")) return Promise.resolve(false);
  return argon2Verify({ password, hash }).catch(() => false);
}
