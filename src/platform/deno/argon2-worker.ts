/**
 * One argon2id worker: hash-wasm is synchronous WebAssembly, so each check runs here, off
 * the station's event loop, as Bun.password runs its checks on a thread pool.
 */
import { hashPasswordArgon2id, verifyPasswordArgon2 } from "./deno-password.ts";

export type Argon2Request =
  | { id: number; op: "hash"; password: string }
  | { id: number; op: "verify"; password: string; hash: string };
export type Argon2Reply =
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

/** The parts of a dedicated worker's global scope used here (the project's lib is DOM's). */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<Argon2Request>) => void) | null;
  postMessage(message: Argon2Reply): void;
};

scope.onmessage = async ({ data }) => {
  try {
    const value =
      data.op === "hash"
        ? await hashPasswordArgon2id(data.password)
        : await verifyPasswordArgon2(data.password, data.hash);
    scope.postMessage({ id: data.id, ok: true, value });
  } catch (err) {
    scope.postMessage({ id: data.id, ok: false, error: (err as Error).message });
  }
};
