/**
 * What runs once per station when several instances form it (docs/scale-out.md): the cloud
 * link is one connection, held by the leader, and taken over when the leader dies.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakeCloud, startFakeCloud } from "./fakes/fake-cloud.ts";
import { type Cluster, metricValue, startCluster } from "./helpers/cluster.ts";
import { eventually } from "./helpers/devices.ts";
import { mosquittoPath } from "./helpers/mosquitto.ts";

let cloud: FakeCloud;
let cluster: Cluster;

const open = () => cloud.connections.filter((c) => !c.closed);

describe.skipIf(!mosquittoPath())("the leader of three instances", () => {
  beforeAll(async () => {
    cloud = await startFakeCloud({ claimSecret: "s3cret", issueToken: "tok-cluster-0123456789" });
    cluster = await startCluster({
      instances: 3,
      env: { OPENGENIE_CLOUD_URL: cloud.url, OPENGENIE_CLOUD_CLAIM_SECRET: "s3cret" },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await cloud?.stop();
  });

  test("holds the one cloud connection, and another instance takes it over when it dies", async () => {
    const first = await cloud.station(15_000);
    // Every instance has had time to take the lease and start the link if it thought it could.
    await Bun.sleep(3000);
    expect(open()).toHaveLength(1);
    expect(
      cloud.connections.flatMap((c) => c.received).filter((m) => m.type === "claim_handshake"),
    ).toHaveLength(1);
    const leaders = await Promise.all(
      cluster.instances.map(async (i) => metricValue(await i.metrics(), "opengenie_cluster_leader")),
    );
    expect(leaders.filter((v) => v === 1)).toHaveLength(1);
    const leader = cluster.instances[leaders.indexOf(1)]!;

    await leader.kill9();
    // The lease expires (10 s) and another instance connects with the stored token.
    const next = await cloud.until(
      () => cloud.connections.find((c) => c.id > first.id && c.authenticated),
      30_000,
      "a connection from another instance",
    );
    expect(next.received.at(-1)).toMatchObject({ type: "station_auth" });
    await eventually(
      async () => open().length,
      (n) => n === 1,
      10_000,
    );
    await leader.restart();
    await Bun.sleep(3000);
    expect(open()).toHaveLength(1);
  }, 90_000);
});
