import { afterAll, beforeAll, expect, test } from "bun:test";
import type { CreatedDevice, DeviceType, ErrorBody } from "../src/protocol/index.ts";
import { type FakeStation, startFakeStation } from "./fake-station.ts";
import { createFleet, type FleetProgress } from "./fleet.ts";

// A stand-in for POST/DELETE /api/devices (CONTRACT.md section 2), backed by the fake broker.
let station: FakeStation;
let api: ReturnType<typeof Bun.serve>;
const created: string[] = [];
const deleted: string[] = [];

beforeAll(async () => {
  station = await startFakeStation({ stationId: "st-fleet" });
  const port = Number(new URL(station.url).port);
  api = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.headers.get("authorization") !== "Bearer admin-token") {
        const body: ErrorBody = { error: { code: "UNAUTHORIZED", message: "bad token" } };
        return Response.json(body, { status: 401 });
      }
      const url = new URL(request.url);
      if (request.method === "DELETE") {
        deleted.push(url.pathname.split("/").pop() ?? "");
        return new Response(null, { status: 204 });
      }
      const body = (await request.json()) as { name: string; type: DeviceType };
      const id = `dev-${created.length + 1}`;
      created.push(body.name);
      const answer: CreatedDevice = {
        device: {
          id,
          name: body.name,
          type: body.type,
          transport: "mqtt",
          online: false,
          lastSeen: null,
          firmwareVersion: null,
          state: {},
          createdAt: Date.now(),
        },
        credentials: {
          stationId: "st-fleet",
          deviceId: id,
          mqttHost: "127.0.0.1",
          mqttPort: port,
          mqttUsername: id,
          mqttPassword: `pw-${id}`,
        },
      };
      return Response.json(answer, { status: 201 });
    },
  });
});

afterAll(async () => {
  await api.stop(true);
  await station.close();
});

test("a fleet registers devices over HTTP, boots them over MQTT and cleans up", async () => {
  const progress: FleetProgress[] = [];
  const fleet = createFleet({
    api: `http://127.0.0.1:${api.port}`,
    apiToken: "admin-token",
    count: 5,
    type: "switch",
    concurrency: 2,
    deleteOnStop: true,
    onProgress: (p) => progress.push(p),
  });
  const summary = await fleet.start();
  expect(summary).toMatchObject({ requested: 5, started: 5, failed: 0 });
  expect(created).toEqual(["sim-switch-1", "sim-switch-2", "sim-switch-3", "sim-switch-4", "sim-switch-5"]);
  expect(progress.filter((p) => p.kind === "started")).toHaveLength(5);
  expect(await station.next("dev-3", "handshake")).toMatchObject({ type: "switch" });
  expect(fleet.devices.every((d) => d.ready)).toBe(true);

  await fleet.stop({ graceful: true });
  expect(deleted.sort()).toEqual(["dev-1", "dev-2", "dev-3", "dev-4", "dev-5"]);
  expect(fleet.devices.some((d) => d.connected)).toBe(false);
});

test("a fleet stops early on a rejected API token and says why", async () => {
  const fleet = createFleet({
    api: `http://127.0.0.1:${api.port}`,
    apiToken: "wrong",
    count: 50,
    concurrency: 1,
  });
  const summary = await fleet.start();
  expect(summary).toMatchObject({ requested: 50, started: 0, failed: 1 });
  expect(summary.aborted).toContain("HTTP 401 UNAUTHORIZED");
  await fleet.stop();
});
