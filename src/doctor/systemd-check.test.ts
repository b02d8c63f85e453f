import { expect, test } from "bun:test";
import { systemdCheck } from "./systemd-check.ts";

const unit = (properties: Record<string, string>) => systemdCheck({ kind: "state", properties });
const base = { LoadState: "loaded", UnitFileState: "enabled", NRestarts: "0", Result: "success" };

test("running and enabled is ok; running but restarted or not enabled is a warning with its fix", () => {
  expect(unit({ ...base, ActiveState: "active", SubState: "running" })).toMatchObject({
    status: "ok",
    detail: "active (running), enabled",
  });
  expect(unit({ ...base, ActiveState: "active", SubState: "running", NRestarts: "3" })).toMatchObject({
    status: "warn",
    detail: expect.stringContaining("restarted 3 time(s)"),
    fix: expect.stringContaining("journalctl -u opengenie"),
  });
  expect(
    unit({ ...base, ActiveState: "active", SubState: "running", UnitFileState: "disabled" }),
  ).toMatchObject({
    status: "warn",
    fix: "sudo systemctl enable opengenie",
  });
});

test("failed, or restarting after a crash, is a failure that points at the journal", () => {
  for (const state of [
    { ActiveState: "failed", SubState: "failed", Result: "exit-code" },
    { ActiveState: "activating", SubState: "auto-restart", Result: "exit-code", NRestarts: "5" },
  ]) {
    expect(unit({ ...base, ...state })).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("result exit-code"),
      fix: expect.stringContaining("journalctl -u opengenie"),
    });
  }
  expect(unit({ ...base, ActiveState: "inactive", SubState: "dead" })).toMatchObject({
    status: "warn",
    fix: "sudo systemctl enable --now opengenie",
  });
});

test("no unit installed, or no systemd, is skipped: a checkout run by hand needs neither", () => {
  expect(unit({ LoadState: "not-found", ActiveState: "inactive", SubState: "dead" }).status).toBe("skip");
  expect(systemdCheck({ kind: "none", why: "no systemd here" })).toMatchObject({ status: "skip" });
});
