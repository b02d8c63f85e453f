import { expect, test } from "bun:test";
import type { StationConfig } from "./config-schema.ts";
import { describeRun, webUrl } from "./run-file.ts";

const bound = { pid: 42, version: "1.0.0", httpPort: 8080, mqttPort: 1883, startedAt: 0 };
const config = (host: string, advertiseHost: string) =>
  ({ host, advertiseHost, stationId: "st-1", dataDir: "/var/lib/opengenie" }) as StationConfig;

test("listening on every address, the URL to open is the advertise host's, not 0.0.0.0 or loopback", () => {
  expect(webUrl(config("0.0.0.0", "192.168.1.20"), 8080)).toBe("http://192.168.1.20:8080/");
  expect(webUrl(config("::", "192.168.1.20"), 8081)).toBe("http://192.168.1.20:8081/");
  expect(webUrl(config("0.0.0.0", "fd00::20"), 8080)).toBe("http://[fd00::20]:8080/");
  // station.json keeps a loopback httpUrl for the CLI, and gains the address people open.
  const run = describeRun(config("0.0.0.0", "192.168.1.20"), bound);
  expect(run.httpUrl).toBe("http://127.0.0.1:8080");
  expect(run.webUrl).toBe("http://192.168.1.20:8080/");
});

test("listening on one address, that address is the only one that answers", () => {
  expect(webUrl(config("127.0.0.1", "192.168.1.20"), 8080)).toBe("http://127.0.0.1:8080/");
  expect(webUrl(config("10.0.0.5", "192.168.1.20"), 8080)).toBe("http://10.0.0.5:8080/");
});
