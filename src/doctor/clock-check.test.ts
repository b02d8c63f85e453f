import { expect, test } from "bun:test";
import { clockCheck } from "./clock-check.ts";

const build = Date.parse("2026-06-01T12:00:00Z");
const day = 24 * 60 * 60 * 1000;

test("a clock more than a year before the build fails, with the way to set it from the network", () => {
  // A Raspberry Pi without network time starts from 1970 or the last saved date.
  for (const now of [0, build - 366 * day]) {
    expect(clockCheck(now, build)).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("more than a year before this build (2026-06-01)"),
      fix: expect.stringContaining("timedatectl set-ntp true"),
    });
  }
});

test("a clock after the build, or less than a year before it, is ok", () => {
  expect(clockCheck(build + 400 * day, build)).toMatchObject({ status: "ok" });
  expect(clockCheck(build - 300 * day, build)).toMatchObject({
    status: "ok",
    detail: "2025-08-05T12:00:00Z (build 2026-06-01)",
  });
  expect(clockCheck(build, undefined).status).toBe("ok");
});
