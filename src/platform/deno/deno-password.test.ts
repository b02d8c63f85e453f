/**
 * The Deno platform's argon2id (hash-wasm) against Bun.password, both ways, in one process;
 * tests/deno-cross-runtime.test.ts does the same through real stations on both runtimes.
 */
import { describe, expect, test } from "bun:test";
import { hashPasswordArgon2id, verifyPasswordArgon2 } from "./deno-password.ts";

describe("argon2id PHC strings shared with Bun.password", () => {
  test("a hash made for Deno has Bun's parameters and verifies with Bun.password", async () => {
    const hash = await hashPasswordArgon2id("correct horse");
    const bunHash = await Bun.password.hash("correct horse", { algorithm: "argon2id" });
    const params = (h: string) => h.split("$").slice(0, 4).join("$");
    expect(params(hash)).toBe(params(bunHash));
    expect(params(hash)).toBe("$argon2id$v=19$m=65536,t=2,p=1");
    expect(await Bun.password.verify("correct horse", hash)).toBe(true);
    expect(await Bun.password.verify("wrong horse", hash)).toBe(false);
  });

  test("a hash made by Bun.password verifies on Deno's side; a wrong password or a garbage hash does not", async () => {
    const bunHash = await Bun.password.hash("battery staple", { algorithm: "argon2id" });
    expect(await verifyPasswordArgon2("battery staple", bunHash)).toBe(true);
    expect(await verifyPasswordArgon2("battery stapler", bunHash)).toBe(false);
    expect(await verifyPasswordArgon2("battery staple", "not a hash")).toBe(false);
    expect(await verifyPasswordArgon2("battery staple", "$argon2id$v=19$m=65536,t=2,p=1$garbage")).toBe(
      false,
    );
  });

  test("two hashes of one password differ (a fresh salt each time)", async () => {
    expect(await hashPasswordArgon2id("same")).not.toBe(await hashPasswordArgon2id("same"));
  });
});
