import type { Kysely } from "kysely";
import type { AuthService } from "../auth/index.ts";
import type { StationConfig } from "../config/index.ts";
import type { Clock, EventBus, StationEvents } from "../core/index.ts";
import type { DeviceService } from "../devices/index.ts";
import { lazyRoutes, loadCloudRoutes } from "../http/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Platform } from "../platform/index.ts";
import { type CloudChannel, identityMessageSchema, isIdentityMessageType } from "../protocol/index.ts";
import type { StationModule } from "../station-module.ts";
import type { Database } from "../storage/index.ts";
import { readChipId } from "./chip-id.ts";
import { type CloudLink, createCloudLink } from "./cloud-link.ts";
import { registerCloudMethods } from "./cloud-methods.ts";
import { cloudStatus } from "./cloud-status.ts";
import { applyIdentityMessage } from "./identity-messages.ts";
import type { PlainMessage } from "./json-rpc-peer.ts";
import { resetStation } from "./station-reset.ts";
import { createStationTokenStore } from "./station-token-store.ts";

export interface CloudModuleDeps {
  db: Kysely<Database>;
  config: Pick<StationConfig, "cloudUrl" | "cloudClaimSecret" | "cloudCa" | "jwtSecret">;
  platform: Platform;
  devices: DeviceService;
  auth: AuthService;
  bus: EventBus<StationEvents>;
  clock: Clock;
  logger: Logger;
  /** Asks the process to exit with `code` once the station has stopped (after `station_reset`). */
  requestExit(code: number): void;
  chipId?: () => string | undefined;
  /** Tests shorten the 30 s ping. */
  pingIntervalMs?: number;
}

/**
 * Identity messages waiting for the database, applied one at a time in arrival order. A cloud
 * that sends more than this at once gets its connection ended (and retried): none is dropped
 * silently (a lost member_removed would leave access in place), and memory stays bounded.
 */
const MAX_QUEUED_IDENTITY_MESSAGES = 1024;

/** Notifications are dropped, not queued, while this much is unsent: a slow cloud cannot grow memory. */
const MAX_BUFFERED_BYTES = 1_048_576;

/**
 * The cloud link as a station module (CONTRACT.md section 7, docs/cloud.md). It dials out, so the
 * remote-access kill switch (which guards inbound sockets) does not apply to it. It starts
 * without waiting for the cloud: an unreachable cloud never delays or fails the station.
 */
export function createCloudModule(deps: CloudModuleDeps) {
  const { db, config, bus, clock, logger } = deps;
  const active = new Set<CloudChannel>();
  const tokens = createStationTokenStore(db, clock, config.jwtSecret, logger);
  const calls = new Map<string, number>();
  let dropped = 0;
  let identityQueued = 0;
  let identityChain: Promise<void> = Promise.resolve();
  let link: CloudLink | undefined;
  let offs: (() => void)[] = [];

  async function onPlainMessage(message: PlainMessage) {
    if (!isIdentityMessageType(message.type)) {
      return logger.warn("cloud link: ignoring a message of unknown type", {
        type: message.type.slice(0, 64),
      });
    }
    const parsed = identityMessageSchema.safeParse(message);
    if (!parsed.success) return logger.warn("cloud link: malformed identity message", { type: message.type });
    const msg = parsed.data;
    if (msg.type === "station_reset") {
      link?.stop();
      return resetStation({ db, devices: deps.devices, logger, requestExit: deps.requestExit });
    }
    const { revokedSessions, roleChanges, removedUser } = await applyIdentityMessage(db, clock, msg);
    deps.auth.sessionsRevoked(revokedSessions);
    // As an admin's role change on the LAN: the next request and the open sockets use the new role.
    for (const { userId, role } of roleChanges) {
      deps.auth.forgetCachedUser(userId);
      bus.emit("user.role_changed", { userId, role });
    }
    if (removedUser) {
      deps.auth.forgetCachedUser(removedUser);
      bus.emit("user.removed", { userId: removedUser });
    }
    logger.info("cloud link: identity message applied", {
      type: msg.type,
      revokedSessions: revokedSessions.length,
    });
  }

  function notify(channel: CloudChannel, data: unknown) {
    const peer = link?.peer;
    if (!peer || !active.has(channel)) return;
    if ((link?.bufferedAmount ?? 0) > MAX_BUFFERED_BYTES) {
      dropped++;
      return;
    }
    peer.notify(channel, data);
  }

  return {
    name: "cloud",
    routes: [
      lazyRoutes(["/cloud"], async () =>
        (await loadCloudRoutes()).cloudRoutes(() => cloudStatus(tokens, config, link?.status())),
      ),
    ],
    metrics: [
      {
        name: "opengenie_cloud_connected",
        help: "1 while the cloud link is authenticated",
        type: "gauge",
        read: () => (link?.status().connected ? 1 : 0),
      },
      {
        name: "opengenie_cloud_reconnects_total",
        help: "Cloud link reconnection attempts scheduled",
        type: "counter",
        read: () => link?.counters().reconnects ?? 0,
      },
      {
        name: "opengenie_cloud_rpc_calls_total",
        help: "JSON-RPC requests the cloud made, by method and outcome",
        type: "counter",
        labelNames: ["method", "outcome"],
        read: () =>
          [...calls].map(([key, value]) => {
            const [method = "", outcome = ""] = key.split(" ");
            return { labels: { method, outcome }, value };
          }),
      },
      {
        name: "opengenie_cloud_messages_dropped_total",
        help: "Cloud messages that could not be used, and notifications dropped while the link was backed up",
        type: "counter",
        read: () => dropped + (link?.counters().badMessages ?? 0),
      },
    ],
    start() {
      if (!config.cloudUrl) return;
      link = createCloudLink({
        url: config.cloudUrl,
        caFile: config.cloudCa,
        claimSecret: config.cloudClaimSecret,
        chipId: deps.chipId ?? (() => readChipId()),
        tokens,
        connect: deps.platform.connectWebSocket,
        clock,
        logger: logger.child({ service: "cloud" }),
        pingIntervalMs: deps.pingIntervalMs,
        onAuthenticated(peer) {
          // Each connection starts with nothing subscribed; the cloud says what it wants.
          active.clear();
          registerCloudMethods(peer, {
            devices: deps.devices,
            setActiveChannels: (channels) => {
              active.clear();
              for (const c of channels) active.add(c);
            },
          });
        },
        onPlainMessage: (message) => {
          if (identityQueued >= MAX_QUEUED_IDENTITY_MESSAGES) {
            dropped++;
            return link?.reconnect("identity messages arrived faster than they apply; reconnecting");
          }
          identityQueued++;
          identityChain = identityChain
            .then(() => onPlainMessage(message))
            .catch((err) =>
              logger.warn("cloud link: identity message not applied", {
                type: message.type.slice(0, 64),
                reason: (err as Error).message,
              }),
            )
            .finally(() => identityQueued--);
        },
        onServed: (method, outcome) => {
          // Unknown method names are not served, so this map holds at most 4 × 2 keys.
          const key = `${method} ${outcome}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
        },
      });
      offs = [
        bus.on("device.state", (d) => notify("device.state", d)),
        bus.on("device.status", (d) => notify("device.status", d)),
        bus.on("device.event", (d) => notify("device.event", d)),
      ];
      link.start();
    },
    stop() {
      for (const off of offs) off();
      offs = [];
      link?.stop();
      link = undefined;
    },
  } satisfies StationModule;
}
