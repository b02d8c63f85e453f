import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import {
  repoRoot,
  runCommand,
  type SpawnedStation,
  spawnStation,
  stationBin,
} from "./helpers/spawn-station.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";

const bin = stationBin;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDataDir() {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

async function started(
  dataDir: string,
  options?: Parameters<typeof spawnStation>[1],
): Promise<SpawnedStation> {
  const station = await spawnStation(dataDir, options);
  cleanups.push(() => (station.proc.exitCode === null ? station.terminate() : undefined));
  return station;
}

async function login(url: string, username: string, password: string) {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, body: (await res.json()) as { accessToken: string } };
}

describe("opengenie serve as a process", () => {
  test("writes station.json with the real ports, and SIGTERM exits 0 and removes it", async () => {
    const dataDir = tempDataDir();
    const station = await started(dataDir);
    const runFile = join(dataDir, "run", "station.json");
    const info = JSON.parse(readFileSync(runFile, "utf8"));
    expect(Object.keys(info).sort()).toEqual(
      [
        "httpPort",
        "httpUrl",
        "mqttPort",
        "mqttUrl",
        "pid",
        "startedAt",
        "stationId",
        "version",
        "webUrl",
      ].sort(),
    );
    expect(info.pid).toBe(station.proc.pid);
    expect(info.httpPort).toBeGreaterThan(0);
    const health = await fetch(`${info.httpUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(await station.terminate()).toBe(0);
    expect(existsSync(runFile)).toBe(false);
  });

  test("the JWT secret is 0600, a new data dir 0750, and a restart keeps users, tokens and the station id", async () => {
    const dataDir = join(tempDataDir(), "fresh");
    const first = await started(dataDir);
    const add = await runCommand(
      [...bin, "user", "add", "rita", "--role", "owner", "--password-stdin", "--data-dir", dataDir],
      {
        stdin: "rita-secret-pw\n",
      },
    );
    expect(add.code).toBe(0);
    const before = await login(first.info.httpUrl, "rita", "rita-secret-pw");
    expect(before.status).toBe(200);
    expect(await first.terminate()).toBe(0);
    expect(statSync(join(dataDir, "jwt-secret")).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o750);

    const second = await started(dataDir);
    expect(second.info.stationId).toBe(first.info.stationId);
    // A token issued before the restart still verifies: the secret was persisted, not regenerated.
    const me = await fetch(`${second.info.httpUrl}/api/auth/me`, {
      headers: { authorization: `Bearer ${before.body.accessToken}` },
    });
    expect(me.status).toBe(200);
    expect((await login(second.info.httpUrl, "rita", "rita-secret-pw")).status).toBe(200);
  });

  test.each([
    ["--port", "HTTP API", "pass --port or stop the other process"],
    ["--mqtt-port", "embedded MQTT broker", "pass --mqtt-port or --mqtt-url"],
  ])("a busy %s gives one line naming the problem and the fix, exit 1", async (flag, what, fix) => {
    const dataDir = tempDataDir();
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    cleanups.push(() => blocker.close());
    const port = String((blocker.address() as { port: number }).port);
    const ports = { "--port": "0", "--mqtt-port": "0", [flag]: port };
    const args = ["serve", "--data-dir", dataDir, "--host", "127.0.0.1", ...Object.entries(ports).flat()];
    const result = await runCommand([...bin, ...args], { env: { HOME: dataDir } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([`error: port ${port} is in use (${what}); ${fix}`]);
    expect(existsSync(join(dataDir, "run", "station.json"))).toBe(false);
  });

  test("a second station: on a running station's port it fails, on its data dir it refuses", async () => {
    const first = await started(tempDataDir());
    const other = tempDataDir();
    const samePort = await runCommand(
      [
        ...bin,
        "serve",
        "--data-dir",
        other,
        "--host",
        "127.0.0.1",
        "--port",
        String(first.info.httpPort),
        "--mqtt-port",
        "0",
      ],
      { env: { HOME: other } },
    );
    expect(samePort.code).toBe(1);
    expect(samePort.stderr.trim()).toBe(
      `error: port ${first.info.httpPort} is in use (HTTP API); pass --port or stop the other process`,
    );
    const sameDir = first.dataDir;
    const again = await runCommand(
      [...bin, "serve", "--data-dir", sameDir, "--port", "0", "--mqtt-port", "0"],
      {
        env: { HOME: other },
      },
    );
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain(`already running on ${sameDir} (pid ${first.proc.pid}`);
    // The running station keeps its run file.
    expect(existsSync(join(sameDir, "run", "station.json"))).toBe(true);
    expect((await fetch(`${first.info.httpUrl}/api/health`)).status).toBe(200);
  });

  test("two stations started at the same instant on one new data dir: exactly one runs", async () => {
    const dataDir = join(tempDataDir(), "data");
    const spawnServe = () =>
      Bun.spawn([...bin, "serve", "--data-dir", dataDir, "--port", "0", "--mqtt-port", "0"], {
        env: {
          ...process.env,
          HOME: dataDir,
          OPENGENIE_HOST: "127.0.0.1",
          OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
        },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
    const procs = [spawnServe(), spawnServe()];
    cleanups.push(async () => {
      for (const proc of procs) proc.kill("SIGKILL");
      await Promise.all(procs.map((proc) => proc.exited));
    });
    // Each one either says it is listening or exits; nothing else can happen.
    const outcomes = await Promise.all(
      procs.map(async (proc) => {
        const decoder = new TextDecoder();
        let out = "";
        for await (const chunk of proc.stdout) {
          out += decoder.decode(chunk);
          if (out.includes("listening")) return { proc, listening: true, stderr: "" };
        }
        await proc.exited;
        return { proc, listening: false, stderr: await new Response(proc.stderr).text() };
      }),
    );
    const running = outcomes.filter((o) => o.listening);
    const refused = outcomes.filter((o) => !o.listening);
    expect(running).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.proc.exitCode).toBe(1);
    expect(refused[0]!.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused[0]!.stderr).toContain(
      `error: a station is already running on ${dataDir} (pid ${running[0]!.proc.pid}`,
    );
    const info = JSON.parse(readFileSync(join(dataDir, "run", "station.json"), "utf8"));
    expect(info.pid).toBe(running[0]!.proc.pid);
    expect((await fetch(`${info.httpUrl}/api/health`)).status).toBe(200);
    // Both generated a JWT secret for the new dir; the runner's is the one on disk, so a token
    // the CLI signs with the file's secret is accepted.
    const run = (args: string[], stdin?: string) =>
      runCommand([...bin, ...args, "--data-dir", dataDir], { env: { HOME: dataDir }, stdin });
    expect(
      (await run(["user", "add", "ann", "--role", "owner", "--password-stdin"], "ann-password\n")).code,
    ).toBe(0);
    const token = (await run(["token", "create", "--user", "ann"])).stdout.trim();
    const me = await fetch(`${info.httpUrl}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    running[0]!.proc.kill("SIGTERM");
    expect(await running[0]!.proc.exited).toBe(0);
    expect(existsSync(join(dataDir, "run", "station.lock"))).toBe(false);
  });

  test("bad flags, bad values and an unusable data dir exit 1 with one error line", async () => {
    const dataDir = tempDataDir();
    const cases: [string[], Record<string, string>, string][] = [
      [["serve", "--bogus"], {}, "--bogus"],
      [["serve", "--port", "99999"], {}, "--port"],
      [["serve"], { OPENGENIE_PORT: "eighty" }, "OPENGENIE_PORT"],
      [["serve"], { OPENGENIE_REMOTE_ACCESS: "maybe" }, "OPENGENIE_REMOTE_ACCESS"],
      [["serve", "--mqtt-url", "http://broker"], {}, "--mqtt-url"],
    ];
    for (const [args, env, mention] of cases) {
      const r = await runCommand([...bin, ...args, "--data-dir", dataDir], {
        env: { HOME: dataDir, ...env },
      });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toStartWith("error: ");
      expect(r.stderr).toContain(mention);
    }
    const fileInTheWay = join(dataDir, "a-file");
    writeFileSync(fileInTheWay, "");
    const r = await runCommand([...bin, "serve", "--data-dir", join(fileInTheWay, "data")], {
      env: { HOME: dataDir },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("data dir");
    expect(r.stderr).toContain("--data-dir");
  });

  test("precedence: flag over environment over config.json over default", async () => {
    const dataDir = tempDataDir();
    writeFileSync(
      join(dataDir, "config.json"),
      JSON.stringify({ host: "127.0.0.1", port: 1, logLevel: "warn" }),
    );
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    const envPort = (blocker.address() as { port: number }).port;
    blocker.close();
    // The environment beats the file's port 1 ...
    const viaEnv = await started(dataDir, {
      args: ["--mqtt-port", "0"],
      env: { OPENGENIE_PORT: String(envPort) },
    });
    expect(viaEnv.info.httpPort).toBe(envPort);
    expect(await viaEnv.terminate()).toBe(0);
    // ... and the flag beats the environment.
    const viaFlag = await started(dataDir, {
      args: ["--port", "0", "--mqtt-port", "0"],
      env: { OPENGENIE_PORT: "1" },
    });
    expect(viaFlag.info.httpPort).not.toBe(1);
  });

  test("--help and version", async () => {
    const help = await runCommand([...bin, "--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["serve", "user", "token", "version"]) expect(help.stdout).toContain(cmd);
    for (const cmd of ["serve", "user", "token"]) {
      const sub = await runCommand([...bin, cmd, "--help"]);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain(`opengenie ${cmd}`);
    }
    const version = await runCommand([...bin, "version"]);
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
