import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { canCreateNetns, createTestNetns, type TestNetns } from "./helpers/test-netns.ts";
import { startTestStation } from "./helpers/test-station.ts";

// Needs root for `ip netns` (CI runs as root). Without it the kill switch is still covered by
// src/http/network-class.test.ts, but not over a real socket from a non-LAN address.
const netnsAvailable = canCreateNetns();
let ns: TestNetns;

beforeAll(() => {
  if (netnsAvailable) ns = createTestNetns(77);
});
afterAll(() => ns?.remove());

async function curlStatus(url: string, headers: string[] = []): Promise<number> {
  const args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"];
  for (const h of headers) args.push("-H", h);
  const r = await ns.exec([...args, url]);
  return Number(r.stdout.trim());
}

describe.skipIf(!netnsAvailable)("kill switch over a real socket from a non-LAN address", () => {
  test("OPENGENIE_REMOTE_ACCESS=off: 503 on every path before auth", async () => {
    const s = await startTestStation({
      env: { OPENGENIE_HOST: ns.hostAddress, OPENGENIE_REMOTE_ACCESS: "off" },
    });
    try {
      const base = `http://${ns.hostAddress}:${s.info.httpPort}`;
      expect(await curlStatus(`${base}/api/health`)).toBe(503);
      expect(await curlStatus(`${base}/`)).toBe(503);
      expect(
        await curlStatus(`${base}/ws?token=x`, [
          "Connection: Upgrade",
          "Upgrade: websocket",
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==",
        ]),
      ).toBe(503);
      // Forwarded headers are not trusted to claim a LAN origin.
      expect(
        await curlStatus(`${base}/api/health`, ["X-Forwarded-For: 192.168.1.10", "X-Real-IP: 127.0.0.1"]),
      ).toBe(503);
      const body = (await ns.exec(["curl", "-s", "--max-time", "5", `${base}/api/health`])).stdout;
      expect(JSON.parse(body).error.code).toBe("UNAVAILABLE");
    } finally {
      await s.stop();
    }
  });

  test("with remote access on, the same client is served (and /metrics needs an admin token)", async () => {
    const s = await startTestStation({
      env: { OPENGENIE_HOST: ns.hostAddress, OPENGENIE_REMOTE_ACCESS: "on" },
    });
    try {
      const base = `http://${ns.hostAddress}:${s.info.httpPort}`;
      expect(await curlStatus(`${base}/api/health`)).toBe(200);
      // Metrics are open to loopback scrapers only; from elsewhere they need an admin token.
      expect(await curlStatus(`${base}/metrics`)).toBe(401);
      const admin = await s.userToken("ks-admin", "admin");
      const member = await s.userToken("ks-member", "member");
      expect(await curlStatus(`${base}/metrics`, [`Authorization: Bearer ${member}`])).toBe(403);
      expect(await curlStatus(`${base}/metrics`, [`Authorization: Bearer ${admin}`])).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

test("with the kill switch on, loopback clients are still served", async () => {
  const s = await startTestStation({ env: { OPENGENIE_REMOTE_ACCESS: "off" } });
  try {
    expect((await s.api("/api/health")).status).toBe(200);
  } finally {
    await s.stop();
  }
});
