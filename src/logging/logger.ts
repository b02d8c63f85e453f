/** Structured logger passed into every service; never a module-level singleton (STYLE.md). */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
}

function serializeValue(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: matching them is the point.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * One log record is one line: a newline or an escape sequence in a peer-supplied value (an MQTT
 * username, a device name) is shown escaped, so it can neither forge a line nor drive a terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bindings = options.bindings ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[level] < rank[options.level]) return;
    const all: Record<string, unknown> = { ...bindings, ...fields };
    for (const key of Object.keys(all)) all[key] = serializeValue(all[key]);
    if (options.format === "json") {
      write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...all }));
      return;
    }
    const extra = Object.entries(all)
      .map(([k, v]) => `${escapeControl(k)}=${typeof v === "string" ? escapeControl(v) : JSON.stringify(v)}`)
      .join(" ");
    write(
      `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${escapeControl(msg)}${extra ? ` ${extra}` : ""}`,
    );
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (more) => createLogger({ ...options, write, bindings: { ...bindings, ...more } }),
  };
}

/** A logger that records lines, for tests that assert something was logged. */
export function createMemoryLogger(level: LogLevel = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, format: "json", write: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}
