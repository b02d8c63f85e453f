import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { zodErrorMessage, zodIssues } from "../core/index.ts";
import { redactDatabaseUrl } from "../storage/database-url.ts";
import { type ConfigInput, configSchema, configSources, type ParsedConfig } from "./config-schema.ts";

/** A configuration problem: one line that names the problem and the fix; the CLI exits 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface ConfigSources {
  flags: Partial<Record<string, string | undefined>>;
  env: Record<string, string | undefined>;
}

export function defaultDataDir(env: Record<string, string | undefined>): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "opengenie");
  return join(env.HOME || homedir(), ".local", "share", "opengenie");
}

/** Resolves only the data dir, which every subcommand needs before it can read config.json. */
export function resolveDataDir({ flags, env }: ConfigSources): string {
  return flags["data-dir"] || env.OPENGENIE_DATA_DIR || defaultDataDir(env);
}

function readConfigFile(dataDir: string): Record<string, unknown> {
  const file = join(dataDir, "config.json");
  if (!existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}; check its permissions`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${file} is not valid JSON; fix it or remove it`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${file} must hold a JSON object`);
  }
  const known = new Set(Object.keys(configSources));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key))
      throw new ConfigError(`${file}: unknown key "${key}"; known keys: ${[...known].join(", ")}`);
  }
  return parsed as Record<string, unknown>;
}

function describeSource(key: keyof ConfigInput, from: "flag" | "env" | "file"): string {
  const src = configSources[key];
  if (from === "flag" && src.flag) return `--${src.flag}`;
  if (from === "env" && src.env) return src.env;
  return `config.json "${key}"`;
}

/** Flag > environment > `<data-dir>/config.json` > default (CONTRACT.md section 1). */
export function loadConfig(sources: ConfigSources): ParsedConfig {
  const dataDir = resolveDataDir(sources);
  const file = readConfigFile(dataDir);
  const merged: Record<string, unknown> = { dataDir };
  const origin: Record<string, "flag" | "env" | "file"> = {};
  for (const [key, src] of Object.entries(configSources) as [
    keyof ConfigInput,
    { flag?: string; env?: string },
  ][]) {
    if (key === "dataDir") continue;
    const flagValue = src.flag ? sources.flags[src.flag] : undefined;
    const envValue = src.env ? sources.env[src.env] : undefined;
    if (flagValue !== undefined) {
      merged[key] = flagValue;
      origin[key] = "flag";
    } else if (envValue !== undefined && envValue !== "") {
      merged[key] = envValue;
      origin[key] = "env";
    } else if (file[key] !== undefined) {
      merged[key] = file[key];
      origin[key] = "file";
    }
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    // The first issue names the setting; its source says where the user set it.
    const key = zodIssues(result.error)[0]?.path.split(".")[0] as keyof ConfigInput;
    const where = describeSource(key, origin[key] ?? "file");
    const message = zodErrorMessage(
      result.error,
      "config",
      () =>
        `value ${JSON.stringify(key === "databaseUrl" ? redactDatabaseUrl(String(merged[key])) : merged[key])}`,
    );
    throw new ConfigError(`invalid ${where} ${message}`);
  }
  return result.data;
}
