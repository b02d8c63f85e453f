#!/usr/bin/env bun
/**
 * `bun firmware-sim/cli.ts`: one simulated device, or a fleet registered through the HTTP API.
 * The only file here that touches argv, signals, stdout and exit codes.
 */
import { createLogger } from "../src/logging/index.ts";
import { type CliArgs, HELP, parseCliArgs } from "./cli-args.ts";
import { createFleet } from "./fleet.ts";
import { createSimulatedDevice } from "./simulated-device.ts";
import type { ReceivedCommand, SentState, SimulatedDevice } from "./simulated-device-types.ts";
import { createWsSimulatedDevice } from "./ws-simulated-device.ts";

type DeviceArgs = Exclude<CliArgs, { mode: "help" }>;

const print = (line: string) => process.stdout.write(`${line}\n`);
const printError = (line: string) => process.stderr.write(`${line}\n`);

function deviceOptions(args: DeviceArgs) {
  const logger = createLogger({
    level: args.verbose ? "debug" : "warn",
    format: process.stderr.isTTY ? "pretty" : "json",
  });
  return {
    logger,
    heartbeatSec: args.heartbeatSec,
    sensorIntervalMs: args.sensorIntervalMs,
    firmwareVersion: args.firmwareVersion,
  };
}

/** Resolves on the first SIGINT/SIGTERM, so main() can stop everything and exit 0. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

type SingleArgs = Extract<DeviceArgs, { mode: "single" }>;

function singleDevice(args: SingleArgs): { device: SimulatedDevice; where: string } {
  const common = {
    ...deviceOptions(args),
    deviceId: args.deviceId,
    token: args.token,
    type: args.type,
    onCommand: ({ command, result }: ReceivedCommand) =>
      print(
        `command ${command.action} (${command.requestId}) -> ${result.ok ? "ok" : `error: ${result.error}`}`,
      ),
    onStateSent: ({ state }: SentState) => print(`state ${JSON.stringify(state)}`),
  };
  if (args.transport === "ws" && args.wsUrl) {
    return { device: createWsSimulatedDevice({ ...common, url: args.wsUrl }), where: `${args.wsUrl}/ws/iot` };
  }
  if (args.transport === "mqtt" && args.url && args.stationId) {
    const { url, stationId, clientIdSuffix } = args;
    const device = createSimulatedDevice({ ...common, url, stationId, clientIdSuffix });
    return { device, where: `${url}, station ${stationId}` };
  }
  throw new Error("unreachable: the flag schema requires each transport's address flags");
}

async function runSingle(args: SingleArgs): Promise<number> {
  const { device, where } = singleDevice(args);
  const signal = untilSignal();
  try {
    await device.start();
  } catch (error) {
    printError(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  print(`${args.deviceId} (${args.type}) online at ${where}; Ctrl-C to stop`);
  print(`stopping on ${await signal}`);
  await device.stop({ graceful: true });
  return 0;
}

async function runFleet(args: Extract<DeviceArgs, { mode: "fleet" }>): Promise<number> {
  const fleet = createFleet({
    api: args.api,
    apiToken: args.apiToken,
    count: args.fleet,
    type: args.type,
    url: args.url,
    transport: args.transport,
    wsUrl: args.wsUrl,
    concurrency: args.concurrency,
    namePrefix: args.namePrefix,
    deleteOnStop: args.deleteOnStop,
    deviceOptions: deviceOptions(args),
    onProgress: (p) => {
      const at = `[${p.done}/${args.fleet}] ${(p.elapsedMs / 1000).toFixed(2)}s`;
      print(
        p.kind === "started"
          ? `${at} ${p.name} online as ${p.deviceId}`
          : `${at} ${p.name} FAILED: ${p.error}`,
      );
    },
  });
  const signal = untilSignal();
  let interrupted = false;
  signal.then(() => {
    interrupted = true;
  });
  const summary = await Promise.race([fleet.start(), signal.then(() => undefined)]);
  if (summary) {
    const rate = summary.elapsedMs > 0 ? (summary.started / summary.elapsedMs) * 1000 : 0;
    print(
      `fleet: ${summary.started}/${summary.requested} online, ${summary.failed} failed, ` +
        `${(summary.elapsedMs / 1000).toFixed(2)}s (${rate.toFixed(1)} devices/s)`,
    );
    if (summary.aborted) printError(`error: gave up: ${summary.aborted}`);
    if (summary.started === 0) {
      await fleet.stop({ graceful: true });
      return 1;
    }
    if (!interrupted) print("running; Ctrl-C to stop");
  }
  print(`stopping on ${await signal}`);
  await fleet.stop({ graceful: true });
  print(`stopped ${fleet.devices.length} devices`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    printError(`error: ${error instanceof Error ? error.message : String(error)}; see --help`);
    return 1;
  }
  if (args.mode === "help") {
    print(HELP);
    return 0;
  }
  return args.mode === "single" ? runSingle(args) : runFleet(args);
}

process.exit(await main(process.argv.slice(2)));
