import { lstatSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateToken } from "../auth/index.ts";
import { writePrivateFile } from "../storage/index.ts";

/**
 * The one-time code that lets the first visitor create the owner account (issue 15): `serve`
 * prints it with the setup URL and keeps it in `<data-dir>/setup-code`, mode 0600 from the first
 * byte, for install.sh and for whoever has the machine's shell. Gone once a user exists.
 */
export const SETUP_CODE_FILE = "setup-code";

const codePattern = /^[A-Za-z0-9_-]{16,128}$/;

export function setupCodePath(dataDir: string): string {
  return join(dataDir, SETUP_CODE_FILE);
}

/** 120 random bits, URL-safe: guessing it is hopeless, and it fits in a query string. */
export function newSetupCode(): string {
  return generateToken(15);
}

/**
 * The code a previous start left, so a restart keeps the URL install.sh printed; undefined if
 * there is none, or the file is not a private regular file of ours holding a well-formed code.
 */
export function readSetupCode(dataDir: string): string | undefined {
  const path = setupCodePath(dataDir);
  try {
    const stat = lstatSync(path);
    const mine = typeof process.getuid !== "function" || stat.uid === process.getuid();
    if (!stat.isFile() || (stat.mode & 0o077) !== 0 || !mine) return undefined;
    const code = readFileSync(path, "utf8").trim();
    return codePattern.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

export function writeSetupCode(dataDir: string, code: string): void {
  writePrivateFile(setupCodePath(dataDir), `${code}\n`);
}

export function removeSetupCode(dataDir: string): void {
  rmSync(setupCodePath(dataDir), { force: true });
}

/** Where the first visitor creates the owner: the web app's `/setup` page with the code. */
export function setupUrl(webUrl: string, code: string): string {
  return `${webUrl.replace(/\/$/, "")}/setup?code=${encodeURIComponent(code)}`;
}
