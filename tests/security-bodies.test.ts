import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createLogger } from "../src/logging/index.ts";
import { rawRequest } from "./helpers/raw-http.ts";
import { type SpawnedStation, spawnStation } from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli } from "./helpers/test-station.ts";

// Issue 9, findings 11, 12 and 15.
const temp = makeTempDir();
let station: SpawnedStation;
beforeAll(async () => {
  station = await spawnStation(`${temp.path}/data`);
});
afterAll(async () => {
  await station.terminate();
  temp.remove();
});

/** The station's resident memory, read from outside the process. */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.match(/\d+/)?.[0] ?? 0) * 1024;
}

/** 7 MiB of JSON whitespace, sent chunked with `headers`: valid to the end, so only the size can stop it. */
function hugeChunkedLogin(headers: Record<string, string>) {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return rawRequest(`${station.info.httpUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...headers },
    body: async function* () {
      for (let i = 0; i < 112; i++) yield chunk;
    },
  }).catch((err: Error) => ({ status: 0, body: err.message, headers: {} }));
}

test("chunked bodies past the limit are stopped as they stream, not read whole", async () => {
  const before = rssBytes(station.info.pid);
  const results = await Promise.all(Array.from({ length: 20 }, () => hugeChunkedLogin({})));
  for (const r of results) {
    // Either the JSON 413, or the connection closed on the sender mid-upload.
    if (r.status !== 0) expect(r.status).toBe(413);
  }
  expect(results.some((r) => r.status === 413)).toBe(true);
  const grown = rssBytes(station.info.pid) - before;
  // Reading 20 × 7 MiB whole grew the station by ~92 MiB; streaming stops each at 64 KiB.
  expect(grown).toBeLessThan(40 * 1024 * 1024);
});

test("a body that declares a small Content-Length and is also chunked is never read whole either", async () => {
  const before = rssBytes(station.info.pid);
  const results = await Promise.all(
    Array.from({ length: 10 }, () => hugeChunkedLogin({ "content-length": "2" })),
  );
  // Refused as ambiguous (400), stopped at the limit (413), or cut off mid-upload: never served.
  for (const r of results) expect([0, 400, 413]).toContain(r.status);
  expect(rssBytes(station.info.pid) - before).toBeLessThan(40 * 1024 * 1024);
});

test("a log field cannot forge a line or carry terminal escapes in the pretty format", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l) });
  logger.warn("refused MQTT login\nINFO fake", {
    username: "dev\n12:00:00.000 INFO  station owner created\u001b[2J",
    "key\r\nx": "v",
  });
  expect(lines).toHaveLength(1);
  for (const control of ["\n", "\r", "\u001b"]) expect(lines[0]!.includes(control)).toBe(false);
  expect(lines[0]).toContain("\\n12:00:00.000 INFO");
  expect(lines[0]).toContain("\\u001b[2J");
});

test("user add --password-stdin takes the first line only, and refuses blank or over-long passwords", async () => {
  const dataDir = `${temp.path}/users`;
  const add = (name: string, stdin: string) =>
    cli(dataDir, ["user", "add", name, "--role", "member", "--password-stdin"], stdin);
  const ok = await add("fay", "first-line-pw\nsecond line is not the password\n");
  expect(ok.code).toBe(0);
  const blank = await add("gil", "          \n");
  expect(blank.code).toBe(1);
  expect(blank.stderr).toContain("at least 8 characters");
  const long = await add("hal", `${"x".repeat(1025)}\n`);
  expect(long.code).toBe(1);
  expect(long.stderr).toContain("at most 1024");
  // The stored password is the first line: it signs in; the whole input does not.
  const served = await spawnStation(dataDir);
  try {
    const login = (password: string) =>
      fetch(`${served.info.httpUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "fay", password }),
      });
    expect((await login("first-line-pw")).status).toBe(200);
    expect((await login("first-line-pw\nsecond line is not the password\n")).status).toBe(401);
  } finally {
    await served.terminate();
  }
});
