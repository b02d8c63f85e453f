export type { LogFormat, Logger, LoggerOptions, LogLevel } from "./logger.ts";
export { createLogger, createMemoryLogger, escapeControl } from "./logger.ts";
