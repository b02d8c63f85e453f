import { createStationClient, type StationClient } from "../client/index.ts";
import { isProcessAlive, type RunInfo, readRunFile } from "../config/index.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { withOfflineAuth } from "./offline-database.ts";

export interface PairSession {
  station: RunInfo;
  token: string;
  client: StationClient;
  api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * Connects `opengenie pair` to the running station. With data-dir access the CLI is already
 * trusted, so it signs itself a one-hour session for an admin (or the user named by --user)
 * and revokes it when done, unless a token was given.
 */
export async function openPairSession(
  io: CliIo,
  flags: { "data-dir"?: string; user?: string; token?: string },
): Promise<PairSession> {
  let station: RunInfo | undefined;
  let token = flags.token ?? io.env.OPENGENIE_TOKEN;
  const minted = !token;
  await withOfflineAuth(io, flags, async (auth, { db }, config) => {
    station = readRunFile(config.dataDir, isProcessAlive);
    if (!station)
      throw new CliError(`no station is running on ${config.dataDir}; start it with 'opengenie serve'`);
    if (token) return;
    let query = db.selectFrom("users").select(["username", "role"]).orderBy("created_at");
    query = flags.user
      ? query.where("username", "=", flags.user)
      : query.where("role", "in", ["owner", "admin"]);
    const user = await query.executeTakeFirst();
    if (!user) {
      throw new CliError(
        flags.user
          ? `no user named ${flags.user}`
          : "pairing needs an owner or admin: create one with 'opengenie user add <name> --role owner --password-stdin'",
      );
    }
    token = (await auth.createLongLivedToken(user.username, 3_600_000, "opengenie pair")).accessToken;
  });
  const info = station!;
  const api = async <T>(path: string, body?: unknown) => {
    const res = await fetch(`${info.httpUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const client = createStationClient({
    url: info.httpUrl.replace(/^http/, "ws"),
    token: token!,
    reconnect: false,
  });
  await client.connect();
  return {
    station: info,
    token: token!,
    client,
    api,
    async close() {
      client.close();
      if (minted) await api("/api/auth/logout", {}).catch(() => undefined);
    },
  };
}
