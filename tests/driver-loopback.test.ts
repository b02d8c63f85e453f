import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectDriver, driverToken, registerDriver } from "./helpers/drivers.ts";
import { canCreateNetns, createTestNetns, type TestNetns } from "./helpers/test-netns.ts";
import { startTestStation } from "./helpers/test-station.ts";
import { upgradeStatus } from "./helpers/ws-client.ts";

// OPENGENIE_DRIVERS_TRUST_LOOPBACK (CONTRACT.md section 1 and 4): published HOS drivers send no
// token, so `on` lets token-less drivers in from loopback, and from nowhere else.

test("off (the default): a token-less driver gets 401 before the upgrade, even from loopback", async () => {
  const s = await startTestStation();
  try {
    expect(s.config.driversTrustLoopback).toBe("off");
    expect(await upgradeStatus(`${s.url}/driver`)).toBe(401);
  } finally {
    await s.stop();
  }
});

test("on: a token-less driver from loopback registers any driverKey; a wrong token is still refused", async () => {
  const s = await startTestStation({ env: { OPENGENIE_DRIVERS_TRUST_LOOPBACK: "on" } });
  try {
    const admin = await s.userToken("lb-admin", "admin");
    const d = await connectDriver(s);
    await registerDriver(d, "STOCK_DRIVER", "stock-1");
    const { drivers } = (await (await s.api("/api/drivers", { token: admin })).json()) as {
      drivers: {
        driverKey: string;
        tokenCreatedAt: number | null;
        sessions: { trustedLoopback: boolean }[];
      }[];
    };
    expect(drivers).toContainEqual(
      expect.objectContaining({
        driverKey: "STOCK_DRIVER",
        tokenCreatedAt: null,
        sessions: [expect.objectContaining({ instanceId: "stock-1", trustedLoopback: true })],
      }),
    );
    expect(await upgradeStatus(`${s.url}/driver?token=ogd_wrong`)).toBe(401);
    d.close();
  } finally {
    await s.stop();
  }
});

// Needs root for `ip netns` (as tests/kill-switch.test.ts): a client that is not on loopback.
const netnsAvailable = canCreateNetns();
describe.skipIf(!netnsAvailable)("on, from a client that is not on loopback", () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = createTestNetns(78);
  });
  afterAll(() => ns?.remove());

  async function upgradeFromNamespace(url: string): Promise<number> {
    const r = await ns.exec([
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--max-time",
      "2",
      "-H",
      "Connection: Upgrade",
      "-H",
      "Upgrade: websocket",
      "-H",
      "Sec-WebSocket-Version: 13",
      "-H",
      "Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==",
      url,
    ]);
    return Number(r.stdout.trim());
  }

  test("a token-less driver gets 401; with its token it gets in", async () => {
    const s = await startTestStation({
      env: { OPENGENIE_HOST: ns.hostAddress, OPENGENIE_DRIVERS_TRUST_LOOPBACK: "on" },
    });
    try {
      const base = `http://${ns.hostAddress}:${s.info.httpPort}`;
      expect(await upgradeFromNamespace(`${base}/driver`)).toBe(401);
      const token = await driverToken(s, "LAN_DRIVER");
      expect(await upgradeFromNamespace(`${base}/driver?token=${token}`)).toBe(101);
    } finally {
      await s.stop();
    }
  });
});
