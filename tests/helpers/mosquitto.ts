import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { makeTempDir } from "./temp-dir.ts";

const candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

export function mosquittoPath(): string | undefined {
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  const which = spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (s) => {
            s.end();
            resolve(true);
          },
          error: () => resolve(false),
          data() {},
          close() {},
        },
      }).catch(() => resolve(false));
      void socket;
    });
    if (ok) return;
    await Bun.sleep(25);
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}

/** mosquitto_passwd, which Debian ships with the broker. */
export function mosquittoPasswdPath(): string | undefined {
  const binary = mosquittoPath();
  const beside = ["/usr/bin/mosquitto_passwd", binary && join(dirname(binary), "mosquitto_passwd")];
  return beside.find((p): p is string => Boolean(p && existsSync(p)));
}

export interface MosquittoOptions {
  /** Logins and an ACL instead of anonymous access: `users` go into a password file. */
  auth?: { users: Record<string, string>; acl: string };
}

/**
 * A real Mosquitto broker on a free loopback port with its own config and persistence, so a
 * restart keeps the station's persistent session like a real deployment.
 */
export async function startMosquitto(options: MosquittoOptions = {}) {
  const binary = mosquittoPath();
  if (!binary) throw new Error("mosquitto is not installed (apt-get install mosquitto; .ci/run does this)");
  const dir = makeTempDir("opengenie-mosquitto-");
  const port = await freePort();
  const config = join(dir.path, "mosquitto.conf");
  const passwordFile = join(dir.path, "passwd");
  const aclFile = join(dir.path, "acl");
  const addUsers = (users: Record<string, string>) => {
    const passwd = mosquittoPasswdPath();
    if (!passwd) throw new Error("mosquitto_passwd is not installed");
    for (const [user, password] of Object.entries(users)) {
      const args = existsSync(passwordFile) ? ["-b"] : ["-c", "-b"];
      const result = spawnSync(passwd, [...args, passwordFile, user, password], { encoding: "utf8" });
      if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
    }
  };
  if (options.auth) {
    addUsers(options.auth.users);
    writeFileSync(aclFile, options.auth.acl);
    // Started as root, Mosquitto reads these as its own user: the temp dir is 0700 by default.
    chmodSync(dir.path, 0o755);
    for (const file of [passwordFile, aclFile]) chmodSync(file, 0o644);
  }
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      ...(options.auth
        ? ["allow_anonymous false", `password_file ${passwordFile}`, `acl_file ${aclFile}`]
        : ["allow_anonymous true"]),
      "persistence true",
      `persistence_location ${dir.path}/`,
      "log_type error",
      "log_dest stderr",
      "max_queued_messages 100000",
      "",
    ].join("\n"),
  );
  let proc: Subprocess | undefined;
  async function launch() {
    const started = Bun.spawn([binary!, "-c", config], { stdout: "ignore", stderr: "pipe" });
    proc = started;
    try {
      await waitForPort(port, 5000);
    } catch (err) {
      started.kill("SIGKILL");
      throw new Error(`${(err as Error).message}: ${await new Response(started.stderr).text()}`);
    }
  }
  async function halt() {
    if (!proc) return;
    proc.kill("SIGTERM");
    await proc.exited;
    proc = undefined;
  }
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    /** Stops and starts the broker on the same port, keeping its persistence file. */
    async restart(downMs = 300) {
      await halt();
      await Bun.sleep(downMs);
      await launch();
    },
    /** Adds logins to the password file and has the broker reload it (SIGHUP), as an admin would. */
    addUsers(users: Record<string, string>) {
      addUsers(users);
      proc?.kill("SIGHUP");
    },
    async stop() {
      await halt();
      dir.remove();
    },
  };
}

export type Mosquitto = Awaited<ReturnType<typeof startMosquitto>>;
