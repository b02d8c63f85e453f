export type { ConfigInput, ModulesPolicy, ParsedConfig, StationConfig } from "./config-schema.ts";
export { configSchema, configSources, modulesPolicySchema } from "./config-schema.ts";
export { completeConfig, deviceBrokerHost, ensureDataDir, lanIPv4 } from "./data-dir.ts";
export { createInstanceLock, type InstanceLock, instanceLockPath } from "./instance-lock.ts";
export type { ConfigSources } from "./load-config.ts";
export { ConfigError, defaultDataDir, loadConfig, resolveDataDir } from "./load-config.ts";
export type { RunInfo } from "./run-file.ts";
export {
  describeRun,
  isProcessAlive,
  readRunFile,
  removeRunFile,
  runFilePath,
  runInfoSchema,
  webUrl,
  writeRunFile,
} from "./run-file.ts";
