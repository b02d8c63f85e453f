/**
 * A private PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp dir, on a free port of
 * 127.0.0.1 only, never the system cluster. Run as root, the cluster runs as the `postgres`
 * user (PostgreSQL refuses root), so its directory is handed to that user. Each test asks for
 * its own database (`createDatabase`); `stop()` stops the cluster and removes everything.
 */
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./mosquitto.ts";

const PG_BIN_DIRS = ["/usr/local/bin", "/usr/bin"];

/** The directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const versioned = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql")
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  return [...versioned, ...PG_BIN_DIRS].find(
    (d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")),
  );
}

function postgresUid(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error("running as root needs a `postgres` user to run the test cluster");
  return { uid, gid: id("-g") };
}

function run(bin: string, args: string[], asUser: boolean): string {
  const command = asUser ? ["runuser", "-u", "postgres", "--", bin, ...args] : [bin, ...args];
  const r = spawnSync(command[0]!, command.slice(1), { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${command.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export interface PostgresCluster {
  readonly port: number;
  /** The superuser URL of a database (`postgres` by default). */
  url(database?: string): string;
  /** A new empty database with a unique name; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** `pg_ctl stop -m fast`: every connection is cut, as a server restart does. */
  stopServer(): void;
  startServer(): void;
  /** Stops the cluster and removes its directory. */
  stop(): void;
}

let databases = 0;

/** A new empty database with a unique name on the server of `adminUrl`; returns its URL. */
export async function createDatabaseAt(adminUrl: string, prefix = "t"): Promise<string> {
  const name = `${prefix}_${process.pid}_${++databases}_${Date.now().toString(36)}`;
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin)
    throw new Error("PostgreSQL is not installed (initdb/pg_ctl); .ci/run installs the postgresql package");
  const owner = postgresUid();
  const dir = mkdtempSync(join(tmpdir(), "opengenie-pg-"));
  const data = join(dir, "data");
  const socketDir = join(dir, "socket");
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const asUser = owner !== undefined;
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, "opengenie-test\n");
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  run(
    join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--no-sync"],
    asUser,
  );
  run("mkdir", [socketDir], asUser);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${socketDir} -c fsync=off -c max_connections=200`;
  const ctl = join(bin, "pg_ctl");
  const startServer = () =>
    run(ctl, ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"], asUser);
  const stopServer = () => run(ctl, ["-D", data, "-m", "fast", "-w", "stop"], asUser);
  startServer();
  const url = (database = "postgres") => `postgres://postgres:opengenie-test@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    createDatabase: (prefix = "t") => createDatabaseAt(url(), prefix),
    stopServer: () => void stopServer(),
    startServer: () => void startServer(),
    stop() {
      try {
        stopServer();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
