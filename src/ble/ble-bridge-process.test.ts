/**
 * The helper supervisor against real child processes: small scripts that speak (or mangle)
 * the helper protocol, crash, or do not exist. A manual clock drives the restart backoff.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHelperHarness } from "../../tests/helpers/helper-process-harness.ts";
import { createManualClock } from "../core/index.ts";
import { createMemoryLogger } from "../logging/index.ts";
import { createBunPlatform } from "../platform/index.ts";
import { createBleBridgeProcess } from "./ble-bridge-process.ts";
import type { BleBridgeProcess, BleBridgeStatusChange } from "./ble-bridge-types.ts";
import { type BleHelperMessage, startScanCommand } from "./ble-messages.ts";

const harness = createHelperHarness();
const bridges: BleBridgeProcess[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await harness.close();
});

/** Every script first appends its pid to argv[2], so a test can count (re)spawns. */
const PRELUDE = `
const fs = require("node:fs");
fs.appendFileSync(process.argv[2], process.pid + "\\n");
const out = (s, then) => process.stdout.write(s, then);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
`;

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

function setup(body: string | undefined, command?: string[]) {
  const dir = harness.tempDir();
  const spawnLog = join(dir, "spawns.log");
  const script = body === undefined ? "" : harness.writeFile(dir, "helper.js", PRELUDE + body);
  const clock = createManualClock();
  const logger = createMemoryLogger();
  const bridge = createBleBridgeProcess({
    platform: createBunPlatform(),
    command: command ?? [process.execPath, script, spawnLog],
    logger,
    clock,
    random: () => 0.5, // no jitter: delays are exactly 1 s, 2 s, 4 s …
  });
  bridges.push(bridge);
  const messages: BleHelperMessage[] = [];
  const changes: BleBridgeStatusChange[] = [];
  bridge.onMessage((m) => messages.push(m));
  bridge.onStatus((c) => changes.push(c));
  const pids = () =>
    existsSync(spawnLog) ? readFileSync(spawnLog, "utf8").trim().split("\n").map(Number) : [];
  const spawns = () => pids().length;
  /** Spawns the supervisor made, counted as it makes them (the child's pid file lags behind). */
  const started = () => logger.lines.filter((l) => JSON.parse(l).msg === "ble helper started").length;
  return { bridge, clock, logger, messages, changes, spawns, pids, started };
}

describe("ble bridge process", () => {
  test("parses lines split across chunks and several lines in one chunk", async () => {
    const { bridge, messages } = setup(`
      out('{"type":"re'); await sleep(30);
      out('ady"}\\n{"type":"scan_started"}\\n{"type":"discovered","address":"AA:BB:CC:00:00:01",');
      await sleep(30);
      out('"name":"OpenGenie-Light-0001","rssi":-55,"service_uuids":["fff0"],"service_data":{}}\\r\\n');
      await sleep(60000);
    `);
    await bridge.start();
    await until("three messages", () => messages.length === 3);
    expect(messages.map((m) => m.type)).toEqual(["ready", "scan_started", "discovered"]);
    expect(messages[2]).toMatchObject({
      address: "AA:BB:CC:00:00:01",
      name: "OpenGenie-Light-0001",
      rssi: -55,
    });
    expect(bridge.status).toBe("ready");
    expect(bridge.garbageLines).toBe(0);
  });

  test("counts and logs garbage lines without crashing, and logs stderr at debug", async () => {
    const { bridge, messages, logger } = setup(`
      out('hello\\n{"type":"nope"}\\n{"type":"discovered"}\\n[1]\\n');
      process.stderr.write("bleak says hi\\n");
      out('{"type":"ready"}\\n'); await sleep(60000);
    `);
    await bridge.start();
    await until("ready", () => bridge.status === "ready");
    await until("stderr logged", () => logger.lines.some((l) => l.includes("bleak says hi")));
    expect(bridge.garbageLines).toBe(4);
    expect(messages).toEqual([{ type: "ready" }]);
    const warnings = logger.lines.map((l) => JSON.parse(l)).filter((l) => l.msg.includes("malformed"));
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatchObject({ level: "warn", line: "hello" });
    expect(logger.lines.find((l) => l.includes("bleak says hi"))).toContain('"level":"debug"');
  });

  test("sends commands as JSON lines on the helper's stdin", async () => {
    const { bridge, messages } = setup(`
      out('{"type":"ready"}\\n');
      for await (const line of console) {
        const cmd = JSON.parse(line);
        out(JSON.stringify({ type: "error", code: "INTERNAL", message: "echo " + cmd.type + " " + cmd.service_uuid }) + "\\n");
      }
    `);
    expect(bridge.send(startScanCommand("fff0"))).toBe(false); // nothing running yet
    await bridge.start();
    await until("ready", () => bridge.status === "ready");
    expect(bridge.send(startScanCommand("fff0"))).toBe(true);
    await until("echo", () => messages.length === 2);
    expect(messages[1]).toEqual({ type: "error", code: "INTERNAL", message: "echo start_scan fff0" });
    expect(bridge.status).toBe("ready"); // INTERNAL is a failed command, not a missing radio
  });

  test("restarts a crashed helper with growing backoff and says it was a restart", async () => {
    // Exit only once the line is flushed: a piped stdout write is asynchronous.
    const { bridge, clock, changes, spawns, started } = setup(
      `out('{"type":"ready"}\\n', () => process.exit(3));`,
    );
    await bridge.start();
    await until("first exit", () => changes.length >= 3);
    expect(changes.map((c) => [c.status, c.restart])).toEqual([
      ["starting", false],
      ["ready", false],
      ["starting", true],
    ]);
    // The restart timer runs on the manual clock and spawns synchronously when it fires.
    clock.advance(999);
    expect(started()).toBe(1);
    clock.advance(1);
    expect(started()).toBe(2);
    // The second helper also crashes at once, so wait for its exit, then look at its "ready".
    await until("second exit", () => changes.length >= 5);
    expect(changes[3]).toEqual({ status: "ready", lastError: undefined, restart: true });
    clock.advance(1_999); // the second delay is 2 s
    expect(started()).toBe(2);
    expect(spawns()).toBe(2);
    clock.advance(1);
    expect(started()).toBe(3);
    await until("third spawn", () => spawns() === 3);
    expect(bridge.restarts).toBe(2);
  });

  test("an error line with NO_ADAPTER marks BLE unavailable with the helper's message", async () => {
    const { bridge, changes, messages } = setup(`
      out('{"type":"ready"}\\n{"type":"error","code":"NO_ADAPTER","message":"plug in an adapter"}\\n');
      await sleep(60000);
    `);
    await bridge.start();
    await until("unavailable", () => bridge.status === "unavailable");
    expect(bridge.lastError).toEqual({ code: "NO_ADAPTER", message: "plug in an adapter" });
    expect(changes.at(-1)).toMatchObject({ status: "unavailable", lastError: { code: "NO_ADAPTER" } });
    expect(messages.at(-1)).toMatchObject({ type: "error", code: "NO_ADAPTER" });
  });

  test("BLEAK_MISSING then exit stays unavailable and keeps backing off instead of hot-looping", async () => {
    const { bridge, clock, spawns } = setup(
      `out('{"type":"error","code":"BLEAK_MISSING","message":"install python3-bleak"}\\n', () => process.exit(1));`,
    );
    await bridge.start();
    await until("unavailable", () => bridge.status === "unavailable");
    await Bun.sleep(300); // real time passes, clock time does not: no respawn
    expect(spawns()).toBe(1);
    clock.advance(1_000);
    await until("respawn", () => spawns() === 2);
    expect(bridge.status).toBe("unavailable");
    expect(bridge.lastError).toEqual({ code: "BLEAK_MISSING", message: "install python3-bleak" });
  });

  test("a command that cannot be spawned is unavailable with a message naming it", async () => {
    const { bridge, clock } = setup(undefined, ["/nonexistent/ble-helper", "--flag"]);
    await bridge.start();
    expect(bridge.status).toBe("unavailable");
    expect(bridge.lastError?.code).toBe("SPAWN_FAILED");
    expect(bridge.lastError?.message).toContain("/nonexistent/ble-helper");
    expect(bridge.lastError?.message).toContain("ENOENT");
    clock.advance(60_000); // retries stay quiet and harmless
    expect(bridge.status).toBe("unavailable");
  });

  test("stop kills the helper, cancels the restart and drops listeners", async () => {
    const { bridge, clock, changes, spawns, pids, started } = setup(
      `out('{"type":"ready"}\\n'); await sleep(60000);`,
    );
    await bridge.start();
    await until("ready", () => bridge.status === "ready");
    const [pid] = pids();
    await bridge.stop();
    expect(() => process.kill(pid!, 0)).toThrow(); // ESRCH: the helper is gone
    expect(bridge.status).toBe("stopped");
    expect(changes.at(-1)?.status).toBe("stopped");
    clock.advance(120_000); // a restart timer left behind would fire, and spawn, right here
    expect(started()).toBe(1);
    expect(spawns()).toBe(1);
    expect(changes.at(-1)?.status).toBe("stopped");
  });
});
