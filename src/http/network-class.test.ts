import { describe, expect, test } from "bun:test";
import { isLocalAddress } from "./network-class.ts";

describe("isLocalAddress (kill switch)", () => {
  test.each([
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.20",
    "100.64.0.1",
    "100.127.255.254",
    "::ffff:192.168.1.5",
    "fd12:3456::1",
    "fe80::1",
  ])("%s is let in", (address) => {
    expect(isLocalAddress(address)).toBe(true);
  });

  test.each([
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "192.169.0.1",
    "::ffff:8.8.4.4",
    "2001:db8::1",
    "",
    "not-an-ip",
  ])("%s is refused", (address) => {
    expect(isLocalAddress(address)).toBe(false);
  });
});
