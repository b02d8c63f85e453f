import type { DoctorCheck } from "../protocol/index.ts";

/** One line of `opengenie doctor`: what was checked, what was found, and the fix when it is not ok. */
export type CheckResult = DoctorCheck;
export const ok = (id: string, name: string, detail: string): CheckResult => ({
  id,
  name,
  status: "ok",
  detail,
});
export const fail = (id: string, name: string, detail: string, fix: string): CheckResult => ({
  id,
  name,
  status: "fail",
  detail,
  fix,
});
export const warn = (id: string, name: string, detail: string, fix?: string): CheckResult => ({
  id,
  name,
  status: "warn",
  detail,
  ...(fix ? { fix } : {}),
});
export const skip = (id: string, name: string, detail: string): CheckResult => ({
  id,
  name,
  status: "skip",
  detail,
});
