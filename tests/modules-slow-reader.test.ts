/**
 * A module that stops reading cannot grow the station's memory (docs/security.md, issue 12):
 * the station's device states wait for it coalesced to the latest per device, and other events
 * past its buffer are dropped and counted, while a module that keeps up sees everything.
 */
import { expect, test } from "bun:test";
import { addDevice } from "./helpers/devices.ts";
import { joinModule } from "./helpers/module-client.ts";
import { OPCODE, rawWebSocket } from "./helpers/raw-ws.ts";
import { startTestStation } from "./helpers/test-station.ts";
import { waitFor } from "./helpers/wait-for.ts";
import { openSocket } from "./helpers/ws-client.ts";

const TOKEN = "slow-reader-token";

test("a slow module gets device states coalesced and other events dropped and counted, never an unbounded queue", async () => {
  const s = await startTestStation({ env: { AUTHENTICATION_TOKEN: TOKEN } });
  const url = `${s.wsUrl}/ws/modules`;
  const fast = await joinModule(url, { name: "fast", token: TOKEN });
  const talker = await joinModule(url, { name: "talker", token: TOKEN });
  try {
    const admin = await s.userToken("slow-admin", "admin");
    const devices = await Promise.all([0, 1, 2].map((i) => addDevice(s, admin, `d${i}`, "sensor")));
    const iot = await Promise.all(
      devices.map((d) =>
        openSocket(`${s.wsUrl}/ws/iot?deviceId=${d.device.id}&token=${d.credentials.mqttPassword}`),
      ),
    );
    for (const dev of iot) {
      dev.ws.send(JSON.stringify({ topic: "handshake", payload: { type: "sensor", firmwareVersion: "1" } }));
      await dev.next();
    }

    const slow = await rawWebSocket(s.info.httpPort, "/ws/modules");
    slow.sendText(JSON.stringify({ type: "module:authenticate", data: { token: TOKEN } }));
    slow.sendText(
      JSON.stringify({
        type: "module:announce",
        data: { name: "slow", identity: { plugin: "slow", instanceId: "s-1" } },
      }),
    );
    await fast.waitFor(() => fast.registryNames().includes("slow"), 5000, "slow in the registry");
    slow.pause();

    // About 30 MB of states: far more than the kernel's socket buffers and the hub's 256 KiB
    // limit hold. The fast module keeps up with every round.
    const padding = "p".repeat(30_000);
    let seq = 0;
    const seqOf = (e: { data: Record<string, unknown> }) => (e.data.state as { seq?: number }).seq ?? 0;
    for (let round = 0; round < 350; round++) {
      for (const dev of iot)
        dev.ws.send(JSON.stringify({ topic: "state", payload: { state: { seq: ++seq, padding } } }));
      const published = seq;
      await fast.waitFor(
        (e) => e.type === "device.state" && seqOf(e) === published,
        10_000,
        `seq ${published}`,
      );
      fast.received.length = 0; // keep the test's own memory flat
    }
    const published = seq;

    // Events from another module are not coalesced: past the buffer they are dropped.
    for (let i = 0; i < 150; i++) talker.send({ type: "talker:chunk", data: { i, padding } });
    await talker.roundTrip();

    const res = await s.api("/api/connections", { token: admin });
    const { modules } = (await res.json()) as {
      modules: { principal?: string; messagesOut: number; dropped: number }[];
    };
    const slowConnection = modules.find((c) => c.principal === "slow")!;
    expect(slowConnection.messagesOut).toBeLessThan(published / 4);
    expect(slowConnection.dropped).toBeGreaterThan(0);

    slow.resume();
    const latest = new Map(devices.map((d, i) => [d.device.id, published - iot.length + 1 + i]));
    const seen = new Map<string, number[]>();
    const take = () => {
      for (const f of slow.frames.splice(0)) {
        if (f.opcode !== OPCODE.text) continue;
        const event = JSON.parse(f.payload.toString()) as {
          type: string;
          data: { deviceId: string; state: { seq: number } };
        };
        if (event.type !== "device.state") continue;
        seen.set(event.data.deviceId, [...(seen.get(event.data.deviceId) ?? []), event.data.state.seq]);
      }
      return [...latest].every(([id, last]) => seen.get(id)?.at(-1) === last);
    };
    await waitFor(take, 15_000, "the latest state of every device at the slow module");
    for (const [id, last] of latest) {
      const seqs = seen.get(id)!;
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(seqs.at(-1)).toBe(last);
    }
    for (const dev of iot) dev.close();
    slow.destroy();
  } finally {
    fast.close();
    talker.close();
    await s.stop();
  }
}, 60_000);
