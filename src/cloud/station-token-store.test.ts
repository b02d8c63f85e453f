import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { openToken, sealToken } from "./station-token-store.ts";

describe("station token sealing", () => {
  const key = randomBytes(32);

  test("a sealed token opens with its key and hides the token", () => {
    const sealed = sealToken(key, "tok-123");
    expect(sealed).not.toContain("tok-123");
    expect(openToken(key, sealed)).toBe("tok-123");
    expect(sealToken(key, "tok-123")).not.toBe(sealed);
  });

  test("another key, a tampered row or a plain value opens to nothing", () => {
    const sealed = sealToken(key, "tok-123");
    expect(openToken(randomBytes(32), sealed)).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), "base64");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(openToken(key, `v1:${raw.toString("base64")}`)).toBeUndefined();
    expect(openToken(key, "tok-123")).toBeUndefined();
    expect(openToken(key, "v1:AAAA")).toBeUndefined();
  });
});
