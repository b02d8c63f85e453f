import { runCli } from "../../src/cli/index.ts";
import { completeConfig, loadConfig, type StationConfig } from "../../src/config/index.ts";
import type { Clock } from "../../src/core/index.ts";
import { createMemoryLogger } from "../../src/logging/index.ts";
import { createBunPlatform } from "../../src/platform/index.ts";
import { createStation, type Station } from "../../src/station.ts";
import { makeTempDir } from "./temp-dir.ts";

export interface TestStationOptions {
  env?: Record<string, string>;
  clock?: Clock;
  dataDir?: string;
}

/** Runs a CLI command in-process against a data dir, as `opengenie …` would. */
export async function cli(dataDir: string, argv: string[], stdin = "", env: Record<string, string> = {}) {
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

/**
 * A whole station in this process on free ports with a real SQLite file in a temp dir.
 * It owns everything it starts; `stop()` tears it all down.
 */
export async function startTestStation(options: TestStationOptions = {}) {
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? temp!.path;
  const env = {
    HOME: dataDir,
    OPENGENIE_HOST: "127.0.0.1",
    OPENGENIE_PORT: "0",
    OPENGENIE_MQTT_PORT: "0",
    OPENGENIE_ADVERTISE_HOST: "127.0.0.1",
    ...options.env,
  };
  const config: StationConfig = completeConfig(loadConfig({ flags: { "data-dir": dataDir }, env }), false);
  const logger = createMemoryLogger("debug");
  const station: Station = createStation(config, createBunPlatform(), {
    logger,
    pid: process.pid,
    clock: options.clock,
  });
  const info = await station.start();
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
      await station.stop();
      temp?.remove();
    },
  };
}

export type TestStation = Awaited<ReturnType<typeof startTestStation>>;
