/** Parses `--mqtt-url` once, so credentials never travel further inside a URL (or into a log). */

export interface MqttUrl {
  /** The URL without credentials; safe to log and to show in errors. */
  brokerUrl: string;
  protocol: "mqtt" | "mqtts";
  host: string;
  port: number;
  username?: string;
  password?: string;
}

const DEFAULT_PORTS = { mqtt: 1883, mqtts: 8883 } as const;

export function parseMqttUrl(raw: string): MqttUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `invalid MQTT URL "${redactMqttUrl(raw)}": expected mqtt://host:port or mqtts://host:port`,
    );
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol !== "mqtt" && protocol !== "mqtts") {
    throw new Error(`unsupported MQTT URL scheme "${url.protocol}": use mqtt:// or mqtts://`);
  }
  if (!url.hostname) throw new Error("invalid MQTT URL: missing host");
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[protocol];
  // WHATWG URL keeps user info percent-encoded; brokers expect the decoded value.
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return {
    brokerUrl: `${protocol}://${url.hostname}:${port}`,
    protocol,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
  };
}

/** Best effort for strings that may not even parse: hide anything between `//` and `@`. */
export function redactMqttUrl(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, "//***@");
}
