import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { runCli } from "../src/cli/index.ts";
import { createManualClock } from "../src/core/index.ts";
import { createBunPlatform } from "../src/platform/index.ts";
import { bunOnly, CLOCK_ONLY_IN_PROCESS } from "./helpers/station-runtime.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

// First run (issue 15, CONTRACT.md section 2): while no user exists the station holds a one-time
// code in <data-dir>/setup-code (0600); POST /api/setup makes the owner with it, and only with it.
const codeFile = (s: { dataDir: string }) => join(s.dataDir, "setup-code");
const readCode = (s: { dataDir: string }) => readFileSync(codeFile(s), "utf8").trim();
const setup = (s: TestStation, body: unknown) =>
  s.api("/api/setup", { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
const required = async (s: TestStation) =>
  ((await (await s.api("/api/setup")).json()) as { required: boolean }).required;
const owner = { username: "first", password: "first-password" };

async function withStation<T>(fn: (s: TestStation) => Promise<T>, options = {}): Promise<T> {
  const s = await startTestStation(options);
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

describe("first run", () => {
  test("the code file is private (0600) and the right code makes the owner once; then 409 and the file is gone", () =>
    withStation(async (s) => {
      expect(statSync(codeFile(s)).mode & 0o777).toBe(0o600);
      const code = readCode(s);
      expect(code).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(await required(s)).toBe(true);

      const res = await setup(s, { code, ...owner });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { user: { id: string; username: string; role: string } };
      expect(body.user).toMatchObject({ username: "first", role: "owner" });
      expect(await s.login("first", "first-password")).toBeString();
      expect(existsSync(codeFile(s))).toBe(false);
      expect(await required(s)).toBe(false);

      const again = await setup(s, { code, username: "second", password: "second-password" });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
      const users = await s.api("/api/users", { token: await s.login("first", "first-password") });
      expect(((await users.json()) as { users: unknown[] }).users).toHaveLength(1);
    }));

  test("a wrong or missing code is 403 and makes no one; malformed bodies are 400; the code stays usable", () =>
    withStation(async (s) => {
      const code = readCode(s);
      // One character changed (a code that happened to end in "X" once made this the right code).
      const last = code.at(-1) === "X" ? "Y" : "X";
      const wrong = await setup(s, { code: `${code.slice(0, -1)}${last}`, ...owner });
      expect(wrong.status).toBe(403);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
      for (const body of [
        "{",
        "{}",
        JSON.stringify(owner),
        JSON.stringify({ code, username: "no spaces", password: "long-enough" }),
        JSON.stringify({ code, username: "x", password: "short" }),
        "[]",
      ]) {
        const res = await setup(s, body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      expect(await required(s)).toBe(true);
      expect(readCode(s)).toBe(code);
      expect((await setup(s, { code, ...owner })).status).toBe(201);
    }));

  bunOnly(CLOCK_ONLY_IN_PROCESS)(
    "wrong codes are rate limited (429 with retryAfterMs), even for the right code, until the window passes",
    async () => {
      const clock = createManualClock(Date.now());
      await withStation(
        async (s) => {
          const code = readCode(s);
          for (let i = 0; i < 5; i++)
            expect((await setup(s, { code: `wrong-code-${i}`, ...owner })).status).toBe(403);
          const limited = await setup(s, { code, ...owner });
          expect(limited.status).toBe(429);
          const body = (await limited.json()) as {
            error: { code: string; details: { retryAfterMs: number } };
          };
          expect(body.error.code).toBe("RATE_LIMITED");
          expect(body.error.details.retryAfterMs).toBeGreaterThan(0);
          expect(await required(s)).toBe(true);
          clock.advance(61_000);
          expect((await setup(s, { code, ...owner })).status).toBe(201);
        },
        { clock },
      );
    },
  );

  test("four right answers at once make one owner, the others 409", () =>
    withStation(async (s) => {
      const code = readCode(s);
      const results = await Promise.all(
        ["a", "b", "c", "d"].map((n) =>
          setup(s, { code, username: `racer-${n}`, password: `racer-${n}-password` }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    }));

  test("an owner made with 'opengenie user add' retires the code: the file goes and setup answers 409", () =>
    withStation(async (s) => {
      const code = readCode(s);
      await s.addUser("shell-owner", "owner");
      expect(existsSync(codeFile(s))).toBe(false);
      expect((await setup(s, { code, ...owner })).status).toBe(409);
    }));

  test("no body without the code makes a user or a 500: 400, 403 or 429 only", async () => {
    await withStation(async (s) => {
      const code = readCode(s);
      const field = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.constant(code.slice(1)),
        fc.boolean(),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record({ code: field, username: field, password: field }, { requiredKeys: [] }),
          async (body) => {
            const res = await setup(s, body);
            expect([400, 403, 429]).toContain(res.status);
            expect(await required(s)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});

describe("restarts and serve", () => {
  test("a restart keeps the code; a code file with loose permissions is replaced by a private one", async () => {
    const dir = makeTempDir();
    try {
      const first = await withStation(async (s) => readCode(s), { dataDir: dir.path });
      expect(await withStation(async (s) => readCode(s), { dataDir: dir.path })).toBe(first);
      chmodSync(join(dir.path, "setup-code"), 0o644);
      const replaced = await withStation(
        async (s) => {
          expect(statSync(codeFile(s)).mode & 0o777).toBe(0o600);
          return readCode(s);
        },
        { dataDir: dir.path },
      );
      expect(replaced).not.toBe(first);
      writeFileSync(join(dir.path, "setup-code"), "not a code\n", { mode: 0o600 });
      expect(await withStation(async (s) => readCode(s), { dataDir: dir.path })).toMatch(
        /^[A-Za-z0-9_-]{20}$/,
      );
    } finally {
      dir.remove();
    }
  });

  test("serve prints the setup URL with the advertised host and port, and not once a user exists", async () => {
    const dir = makeTempDir();
    const env = {
      HOME: dir.path,
      OPENGENIE_HOST: "0.0.0.0",
      OPENGENIE_PORT: "0",
      OPENGENIE_MQTT_PORT: "0",
      OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
    };
    const serve = async () => {
      let out = "";
      const outcome = await runCli(["serve", "--data-dir", dir.path], {
        env,
        platform: createBunPlatform(),
        stdout: (t) => {
          out += t;
        },
        stderr: () => {},
        readStdin: async () => "",
        prompt: async () => "",
        isTTY: false,
      });
      if (outcome.kind !== "running") throw new Error("serve did not start");
      return { out, stop: outcome.stop };
    };
    try {
      const first = await serve();
      const code = readFileSync(join(dir.path, "setup-code"), "utf8").trim();
      const port = JSON.parse(readFileSync(join(dir.path, "run", "station.json"), "utf8")).httpPort;
      expect(first.out).toContain(`http://127.0.0.1:${port}/setup?code=${code}`);
      await first.stop();
      expect(
        (
          await cli(
            dir.path,
            ["user", "add", "later", "--role", "owner", "--password-stdin"],
            "later-password\n",
          )
        ).code,
      ).toBe(0);
      const second = await serve();
      expect(second.out).not.toContain("setup");
      expect(second.out).toContain("listening");
      await second.stop();
    } finally {
      dir.remove();
    }
  });
});
