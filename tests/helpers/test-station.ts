import { runCli } from "../../src/cli/index.ts";
import type { RunInfo } from "../../src/config/index.ts";
import { completeConfig, loadConfig, type StationConfig } from "../../src/config/index.ts";
import type { Clock } from "../../src/core/index.ts";
import { createMemoryLogger } from "../../src/logging/index.ts";
import { createBunPlatform, type Platform } from "../../src/platform/index.ts";
import { createStation, type Station } from "../../src/station.ts";
import { spawnStation } from "./spawn-station.ts";
import { onDeno, opengenieCommand, runtimeEnv } from "./station-runtime.ts";
import { makeTempDir } from "./temp-dir.ts";
import { useTestDatabase } from "./test-database.ts";

export interface TestStationOptions {
  env?: Record<string, string>;
  clock?: Clock;
  dataDir?: string;
  /**
   * Run the station as this command in a process of its own (e.g. `bun --preload … bin/opengenie.ts`)
   * instead of in this process; on Deno it always is one.
   */
  spawnCmd?: string[];
  /** The in-process station's platform (default: Bun's), e.g. Bun's with a call counted. */
  platform?: Platform;
}

/**
 * Runs a CLI command against a data dir, as `opengenie …` would: in this process, or on Deno
 * (OPENGENIE_TEST_RUNTIME=deno) as a `deno run bin/opengenie.ts` process with the same env.
 */
export async function cli(dataDir: string, argv: string[], stdin = "", env: Record<string, string> = {}) {
  if (onDeno) return cliProcess(dataDir, argv, stdin, env);
  let out = "";
  let err = "";
  const answers = stdin.split("\n");
  const outcome = await runCli([...argv, "--data-dir", dataDir], {
    env: { HOME: dataDir, ...env },
    platform: createBunPlatform(),
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => stdin,
    // Prompts answer from stdin's lines, in order, as a piped terminal would.
    prompt: async (question: string) => {
      out += question;
      return answers.shift() ?? "";
    },
    isTTY: false,
  });
  return { code: outcome.kind === "exit" ? outcome.code : 0, stdout: out, stderr: err };
}

async function cliProcess(dataDir: string, argv: string[], stdin: string, env: Record<string, string>) {
  const proc = Bun.spawn([...opengenieCommand(undefined, argv[0]), ...argv, "--data-dir", dataDir], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...runtimeEnv(), HOME: dataDir, ...env },
    stdin: new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** The in-process station, which a station in another process (on Deno) does not have. */
const notInProcess = new Proxy({} as Station, {
  get(_target, key) {
    throw new Error(
      `s.station.${String(key)} needs the station in this process; with OPENGENIE_TEST_RUNTIME=deno mark the test bunOnly(...)`,
    );
  },
});

/**
 * A whole station in this process on free ports with a real SQLite file in a temp dir.
 * It owns everything it starts; `stop()` tears it all down.
 */
export async function startTestStation(options: TestStationOptions = {}) {
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? temp!.path;
  await useTestDatabase(dataDir);
  const env = {
    HOME: dataDir,
    OPENGENIE_HOST: "127.0.0.1",
    OPENGENIE_PORT: "0",
    OPENGENIE_MQTT_PORT: "0",
    OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
    ...options.env,
  };
  const config: StationConfig = completeConfig(loadConfig({ flags: { "data-dir": dataDir }, env }), false);
  let station: Station;
  let logger: { readonly lines: string[] };
  let info: RunInfo;
  let stopStation: () => Promise<void>;
  if (onDeno || options.spawnCmd) {
    // The same data dir (station id and JWT secret were just persisted), on a Deno process.
    // It runs on real time: an injected clock cannot reach another process, so tests that
    // advance one are marked bunOnly(CLOCK_ONLY_IN_PROCESS); the others pass either way.
    const spawned = await spawnStation(dataDir, {
      ...(options.spawnCmd ? { cmd: options.spawnCmd } : {}),
      args: [],
      env: { ...env, LOG_FORMAT: "json", LOG_LEVEL: "debug" },
    });
    station = notInProcess;
    logger = {
      get lines() {
        return spawned
          .stderr()
          .split("\n")
          .filter((line) => line.startsWith("{"));
      },
    };
    info = spawned.info as RunInfo;
    stopStation = async () => {
      const code = await spawned.terminate();
      if (code !== 0)
        throw new Error(`the spawned station exited ${code}:\n${spawned.stderr().slice(-4000)}`);
    };
  } else {
    const memory = createMemoryLogger("debug");
    logger = memory;
    station = createStation(config, options.platform ?? createBunPlatform(), {
      logger: memory,
      pid: process.pid,
      clock: options.clock,
    });
    info = await station.start();
    stopStation = () => station.stop();
  }
  const url = info.httpUrl;
  const wsUrl = url.replace(/^http/, "ws");

  async function addUser(username: string, role: string, password = `${username}-password`) {
    const result = await cli(
      dataDir,
      ["user", "add", username, "--role", role, "--password-stdin"],
      `${password}\n`,
    );
    if (result.code !== 0) throw new Error(result.stderr);
    return password;
  }

  async function login(username: string, password = `${username}-password`): Promise<string> {
    const res = await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { accessToken: string }).accessToken;
  }

  /** Creates a user with `role` and returns a fresh access token for it. */
  async function userToken(username: string, role: string): Promise<string> {
    await addUser(username, role);
    return login(username);
  }

  return {
    station,
    config,
    info,
    url,
    wsUrl,
    dataDir,
    logger,
    addUser,
    login,
    userToken,
    api: (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: {
          ...(init.body ? { "content-type": "application/json" } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    async stop() {
      await stopStation();
      temp?.remove();
    },
  };
}

export type TestStation = Awaited<ReturnType<typeof startTestStation>>;
