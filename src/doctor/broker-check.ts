import type { StationConfig } from "../config/index.ts";
import { parseMqttUrl } from "../mqtt/index.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

// MQTT 3.1.1 CONNACK return codes, section 3.2.2.3 (MQTT.js words them with MQTT 5's table):
// https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc385349256
const REFUSALS: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "client identifier rejected",
  3: "server unavailable",
  4: "bad username or password",
  5: "not authorized",
};

/**
 * Logs in to the external broker exactly as the station does (its URL's credentials, MQTT
 * 3.1.1), under a client id of its own so a running station's session is left alone. The
 * embedded broker has no login of its own: the station is that broker.
 */
export async function brokerCheck(config: StationConfig, timeoutMs = 5000): Promise<CheckResult> {
  const name = "broker login";
  if (!config.mqttUrl) return skip("broker", name, "embedded broker: it runs inside the station");
  let url: ReturnType<typeof parseMqttUrl>;
  try {
    url = parseMqttUrl(config.mqttUrl);
  } catch (err) {
    return fail(
      "broker",
      name,
      (err as Error).message,
      "fix --mqtt-url (OPENGENIE_MQTT_URL, config.json mqttUrl)",
    );
  }
  const who = url.username ? `as ${url.username}` : "without a username";
  try {
    // MQTT.js only when there is an external broker to check (it is not loaded otherwise).
    const { connectAsync } = await import("mqtt");
    const client = await connectAsync(
      url.brokerUrl,
      {
        clientId: `opengenie-${config.stationId}-doctor`,
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs,
        ...(url.username !== undefined && { username: url.username }),
        ...(url.password !== undefined && { password: url.password }),
      },
      false,
    );
    await client.endAsync();
    return ok("broker", name, `${url.brokerUrl} accepts the station's login (${who})`);
  } catch (err) {
    const error = err as Error & { code?: unknown };
    if (typeof error.code === "number" && error.message.startsWith("Connection refused")) {
      const reason = REFUSALS[error.code] ?? `return code ${error.code}`;
      return fail(
        "broker",
        name,
        `${url.brokerUrl} refused the station's login (${who}): ${reason}`,
        "check the user and password in the MQTT URL (--mqtt-url, OPENGENIE_MQTT_URL or config.json mqttUrl) against the broker's password file (docs/mosquitto.md)",
      );
    }
    return fail(
      "broker",
      name,
      `cannot reach ${url.brokerUrl}: ${error.message}`,
      "start the broker (sudo systemctl start mosquitto) or fix the host and port in the MQTT URL",
    );
  }
}
