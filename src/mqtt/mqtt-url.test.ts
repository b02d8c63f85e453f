import { describe, expect, test } from "bun:test";
import { parseMqttUrl, redactMqttUrl } from "./mqtt-url.ts";

describe("MQTT URL", () => {
  test("splits credentials out of the URL, decoding them", () => {
    expect(parseMqttUrl("mqtt://user:p%40ss@broker.lan:1884")).toEqual({
      brokerUrl: "mqtt://broker.lan:1884",
      protocol: "mqtt",
      host: "broker.lan",
      port: 1884,
      username: "user",
      password: "p@ss",
    });
  });

  test("defaults the port by scheme", () => {
    expect(parseMqttUrl("mqtt://h").port).toBe(1883);
    expect(parseMqttUrl("mqtts://h").port).toBe(8883);
    expect(parseMqttUrl("mqtts://h").username).toBeUndefined();
  });

  test("refuses other schemes and garbage without echoing a password", () => {
    expect(() => parseMqttUrl("http://h")).toThrow("mqtt://");
    expect(() => parseMqttUrl("nonsense")).toThrow("invalid MQTT URL");
    expect(redactMqttUrl("mqtt://u:secret@h:1")).toBe("mqtt://***@h:1");
  });
});
