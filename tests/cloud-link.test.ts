import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { hkdfSync, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readChipId } from "../src/cloud/chip-id.ts";
import { openToken } from "../src/cloud/station-token-store.ts";
import { createManualClock } from "../src/core/index.ts";
import { cloudCheck } from "../src/doctor/cloud-check.ts";
import { type FakeCloud, startFakeCloud } from "./fakes/fake-cloud.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";

const TOKEN = "station-token-0123456789abcdef-never-logged";
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function cloudAt(options: Parameters<typeof startFakeCloud>[0] = {}): Promise<FakeCloud> {
  const cloud = await startFakeCloud(options);
  cleanup.push(() => cloud.stop());
  return cloud;
}

async function station(options: Parameters<typeof startTestStation>[0]): Promise<TestStation> {
  const s = await startTestStation(options);
  cleanup.push(() => s.stop());
  return s;
}

/** The row as stored: sealed, never the token itself. */
function storedToken(dataDir: string): string | null {
  const db = new Database(join(dataDir, "opengenie.db"));
  try {
    return (
      (db.query("SELECT station_token FROM cloud_config").get() as { station_token: string } | null)
        ?.station_token ?? null
    );
  } finally {
    db.close();
  }
}

/** Opens the sealed row with the key the station derives from its JWT secret file. */
function openedToken(dataDir: string): string | undefined {
  const secret = readFileSync(join(dataDir, "jwt-secret"), "utf8").trim();
  const key = Buffer.from(hkdfSync("sha256", secret, "opengenie", "cloud station token v1", 32));
  return openToken(key, storedToken(dataDir) ?? "");
}

async function status(s: TestStation, token: string) {
  const res = await s.api("/api/cloud/status", { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("cloud link: claim and authenticate", () => {
  test("claims once, stores the token, and after a restart only authenticates (kill switch on)", async () => {
    const cloud = await cloudAt({ claimSecret: "s3cret", issueToken: TOKEN });
    const dir = makeTempDir();
    cleanup.push(() => dir.remove());
    const env = {
      OPENGENIE_CLOUD_URL: cloud.url,
      OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret",
      // The kill switch guards inbound sockets only; the outbound link is unaffected.
      OPENGENIE_REMOTE_ACCESS: "off",
    };
    const first = await startTestStation({ dataDir: dir.path, env });
    const conn1 = await cloud.station();
    expect(conn1.received.map((m) => m.type)).toEqual(["claim_handshake", "station_auth"]);
    expect(conn1.received[0]).toEqual({
      type: "claim_handshake",
      chipId: readChipId(),
      claimSecret: "s3cret",
    });
    expect(conn1.received[1]).toEqual({ type: "station_auth", stationToken: TOKEN });
    // Sealed at rest (the database file is group-readable and goes into backups).
    expect(storedToken(dir.path)).toStartWith("v1:");
    expect(storedToken(dir.path)).not.toContain(TOKEN);
    expect(openedToken(dir.path)).toBe(TOKEN);
    const guest = await first.userToken("gina", "guest");
    const seen = await status(first, guest);
    expect(seen).toMatchObject({ configured: true, connected: true, claimed: true });
    expect(seen.lastConnectedAt).toBeNumber();
    expect(seen.lastError).toBeUndefined();
    expect(first.logger.lines.join("\n")).not.toContain(TOKEN);
    await first.stop();

    const second = await station({ dataDir: dir.path, env });
    const conn2 = await cloud.until(() => cloud.connections.find((c) => c.id > conn1.id && c.authenticated));
    expect(conn2.received).toEqual([{ type: "station_auth", stationToken: TOKEN }]);
    expect(
      cloud.connections.flatMap((c) => c.received).filter((m) => m.type === "claim_handshake"),
    ).toHaveLength(1);
    expect(second.logger.lines.join("\n")).not.toContain(TOKEN);
    await second.stop();

    // A token sealed under another JWT secret (a restore onto another machine) is not a claim.
    writeFileSync(join(dir.path, "jwt-secret"), `${randomBytes(32).toString("base64url")}\n`, {
      mode: 0o600,
    });
    const moved = await station({ dataDir: dir.path });
    const movedGuest = await moved.userToken("gus", "guest");
    expect(await status(moved, movedGuest)).toMatchObject({ configured: false, claimed: false });
  });

  bunOnly(CLOCK_ONLY_IN_PROCESS)(
    "auth_error shows in status.lastError and the backoff keeps growing; fixed, the link comes back",
    async () => {
      const clock = createManualClock(Date.now());
      const cloud = await cloudAt({ claimSecret: "s3cret" });
      cloud.refuseAuth("station token revoked");
      const s = await station({
        clock,
        env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
      });
      const guest = await s.userToken("gina", "guest");
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        await cloud.until(() =>
          cloud.connections.length === attempt && cloud.connections[attempt - 1]!.closed ? true : undefined,
        );
        const seen = await status(s, guest);
        expect(seen).toMatchObject({ configured: true, connected: false, claimed: true });
        expect(seen.lastError).toContain("station token revoked");
        // The retry delay the station chose, from its log line; it must lie in the backoff's bounds.
        const lines = s.logger.lines.filter((l) => l.includes("cloud link reconnecting"));
        expect(lines).toHaveLength(attempt);
        const delay = JSON.parse(lines.at(-1)!).inMs as number;
        delays.push(delay);
        const base = 2000 * 2 ** (attempt - 1);
        expect(delay).toBeGreaterThanOrEqual(base * 0.8);
        expect(delay).toBeLessThanOrEqual(base * 1.2);
        clock.advance(delay - 1);
        await status(s, guest);
        expect(cloud.connections).toHaveLength(attempt); // not a moment early
        if (attempt === 3) cloud.refuseAuth(undefined);
        clock.advance(1);
      }
      await cloud.station();
      const seen = await status(s, guest);
      expect(seen).toMatchObject({ connected: true, claimed: true });
      expect(seen.lastError).toBeUndefined();
    },
  );

  test("without a claim secret an unclaimed station does not dial, and says why", async () => {
    const cloud = await cloudAt();
    const s = await station({ env: { OPENGENIE_CLOUD_URL: cloud.url } });
    const guest = await s.userToken("gina", "guest");
    const seen = await status(s, guest);
    expect(seen).toMatchObject({ configured: true, connected: false, claimed: false });
    expect(seen.lastError).toContain("OPENGENIE_CLOUD_CLAIM_SECRET");
    expect(cloud.connections).toHaveLength(0);
  });

  test("opengenie doctor shows the link: connected, then refused with the fix", async () => {
    const cloud = await cloudAt({ claimSecret: "s3cret" });
    const s = await station({
      env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
    });
    await cloud.station();
    expect(await cloudCheck(s.url, s.config)).toMatchObject({ id: "cloud", status: "ok" });
    cloud.refuseAuth("station removed");
    cloud.dropAll();
    const refused = cloud.connections.length + 1;
    await cloud.until(() =>
      cloud.connections.length === refused && cloud.connections.at(-1)!.closed ? true : undefined,
    );
    const check = await cloudCheck(s.url, s.config);
    expect(check).toMatchObject({ status: "fail", detail: "the cloud refused the station: station removed" });
    expect(check.fix).toContain("claim it again");
  });

  test("an unreachable cloud neither delays nor fails the start; status says why", async () => {
    const gone = await cloudAt();
    const url = gone.url;
    await gone.stop();
    const s = await station({ env: { OPENGENIE_CLOUD_URL: url, OPENGENIE_CLOUD_CLAIM_SECRET: "x" } });
    expect((await s.api("/api/health")).status).toBe(200);
    const guest = await s.userToken("gina", "guest");
    const seen = await status(s, guest);
    expect(seen).toMatchObject({ configured: true, connected: false, claimed: false });
  });

  test("wss:// verifies the certificate; OPENGENIE_CLOUD_CA trusts a private CA", async () => {
    const dir = makeTempDir();
    cleanup.push(() => dir.remove());
    // A private CA and the relay's certificate signed by it (rustls, Deno's TLS, refuses a
    // self-signed CA certificate as the server's own: CaUsedAsEndEntity).
    const ca = join(dir.path, "ca.pem");
    const cert = join(dir.path, "cloud.pem");
    const key = join(dir.path, "cloud.key");
    const openssl = (...args: string[]) => expect(Bun.spawnSync(["openssl", ...args]).exitCode).toBe(0);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      join(dir.path, "ca.key"),
      "-out",
      ca,
      "-days",
      "2",
      "-subj",
      "/CN=private-ca",
    );
    openssl("req", ...ec, "-keyout", key, "-out", join(dir.path, "cloud.csr"), "-subj", "/CN=private-cloud");
    writeFileSync(join(dir.path, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    openssl(
      "x509",
      "-req",
      "-in",
      join(dir.path, "cloud.csr"),
      "-CA",
      ca,
      "-CAkey",
      join(dir.path, "ca.key"),
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      "2",
      "-extfile",
      join(dir.path, "ext.cnf"),
    );
    const cloud = await cloudAt({
      claimSecret: "s3cret",
      tls: { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") },
    });
    expect(cloud.url.startsWith("wss://")).toBe(true);
    const env = { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" };
    const untrusting = await station({ env });
    const guest = await untrusting.userToken("gina", "guest");
    await waitFor(
      async () => Boolean((await status(untrusting, guest)).lastError),
      5000,
      "a TLS failure in status",
    );
    expect(String((await status(untrusting, guest)).lastError)).toContain("certificate");
    expect(cloud.connections).toHaveLength(0);
    await untrusting.stop();

    await station({ env: { ...env, OPENGENIE_CLOUD_CA: ca } });
    await cloud.station();
  });
});
